import PostgresReplication

extension DaybookError {
    /// Runs `body`, passing a ``DaybookError`` through and turning a libpq error into advice
    /// about the `role` database ("source" or "sink"), so every entry point reports failures
    /// the same way.
    static func mapping<T>(role: String, _ body: () throws -> T) throws(DaybookError) -> T {
        do {
            return try body()
        } catch let error as DaybookError {
            throw error
        } catch let error as PostgresError {
            throw DaybookError.from(error, role: role)
        } catch {
            throw DaybookError(.query, "\(error)")
        }
    }
}
