import Foundation

/// Why libpq would not read the password file `$PGPASSFILE` names, if it would not.
///
/// libpq skips a password file it cannot open, or one that others may read, without a word,
/// and the login then fails with "no password supplied". A service (`daybook@.service` reads
/// `PGPASSFILE` from its environment file) is where that happens most: the file belongs to
/// root, or has the wrong mode. The login error names the reason instead.
enum PasswordFileCheck {
    /// `nil` when `$PGPASSFILE` is unset or a file libpq would read; else the reason, with the fix.
    static func problem(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let path = environment["PGPASSFILE"], !path.isEmpty else { return nil }
        var status = stat()
        guard stat(path, &status) == 0 else {
            return "the password file PGPASSFILE names, \(path), does not exist"
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            return "PGPASSFILE names \(path), which is not a file"
        }
        guard access(path, R_OK) == 0 else {
            return "the password file \(path) (PGPASSFILE) cannot be read by user \(userName()): "
                + "make it that user's, mode 600"
        }
        guard status.st_mode & (S_IRWXG | S_IRWXO) == 0 else {
            return "libpq ignores the password file \(path) (PGPASSFILE) because others may read it: chmod 600 it"
        }
        return nil
    }

    private static func userName() -> String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "\(geteuid())" }
        return String(cString: name)
    }
}
