/// Which Daybook this is: one number for `daybook --version`, the Debian package and the
/// build-info metric, so that what runs, what is installed and what is scraped agree.
///
/// Semantic versioning: the major number changes when an upgrade needs more than installing
/// the binary and running `daybook migrate` (the sink's schema has its own number,
/// `Migrator.schemaVersion`, checked at every start).
public enum DaybookRelease {
    /// The release; `scripts/package` names the package after it.
    public static let version = "1.0.0"
}
