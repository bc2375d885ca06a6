/// Which Daybook this is: one number for `daybook --version` and the Debian package, so that
/// what runs and what is installed agree.
///
/// Semantic versioning: the major number changes when an upgrade needs more than installing
/// the binary and running `daybook migrate` (the sink's schema has its own number,
/// `Migrator.schemaVersion`, checked at every start).
public enum DaybookRelease {
    /// The release; `scripts/package` names the package after it.
    public static let version = "1.0.0"
}
