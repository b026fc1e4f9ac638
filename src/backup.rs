//! `linli backup PATH`: a consistent copy of the ledger, safe while the bot
//! runs, readable by its owner only (it holds flat numbers), never over
//! another file.
//!
//! An SQLite ledger is copied with `VACUUM INTO` (one snapshot, a single
//! file); a PostgreSQL ledger with PostgreSQL's own `pg_dump`
//! (`--format=custom`, restored with `pg_restore`), when it is installed.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::config::DatabaseSettings;
use crate::ledger::{owner_only_file, Backend, Ledger};

/// Writes the copy of `ledger` (opened from `settings`) to `path`, which
/// must not exist yet, in a folder that does. Errors are for the operator.
pub async fn backup(
    ledger: &Ledger,
    settings: &DatabaseSettings,
    path: &Path,
) -> anyhow::Result<()> {
    let shown = path.display();
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        anyhow::bail!(
            "cannot back up to {shown}: the folder {} does not exist",
            folder.display()
        );
    }
    // Made here, empty and private, for the copy to fill: SQLite and
    // pg_dump would give a file they make the umask's mode.
    match owner_only_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "cannot back up to {shown}: it already exists, and a backup never overwrites"
        ),
        Err(error) => anyhow::bail!("cannot back up to {shown}: {error}"),
    }
    let copied = match ledger.readers() {
        Backend::Sqlite(readers) => vacuum_into(readers, path).await,
        Backend::Postgres(_) => pg_dump(settings, path),
    };
    if let Err(error) = copied {
        // Not left behind half-made; it was ours, made just above.
        let _ = std::fs::remove_file(path);
        anyhow::bail!("cannot back up to {shown}: {error}");
    }
    Ok(())
}

async fn vacuum_into(readers: &sqlx::SqlitePool, path: &Path) -> anyhow::Result<()> {
    let target = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the path is not UTF-8"))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(readers)
        .await?;
    Ok(())
}

/// Runs `pg_dump` into `path`. The password goes in `PGPASSWORD`, not on
/// its command line, where other users of the machine could read it.
fn pg_dump(settings: &DatabaseSettings, path: &Path) -> anyhow::Result<()> {
    let mut url = url::Url::parse(&settings.url)?;
    // Before the host it is percent-encoded; as a parameter, decoded.
    let mut password = url.password().map(|encoded| {
        percent_encoding::percent_decode_str(encoded)
            .decode_utf8_lossy()
            .into_owned()
    });
    let _ = url.set_password(None);
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter_map(|(key, value)| match key.as_ref() {
            "password" => {
                password = Some(value.into_owned());
                None
            }
            _ => Some((key.into_owned(), value.into_owned())),
        })
        .collect();
    url.set_query(None);
    if !others.is_empty() {
        url.query_pairs_mut().extend_pairs(others);
    }
    let mut command = Command::new("pg_dump");
    command
        .arg("--format=custom")
        .arg("--file")
        .arg(path)
        .arg("--dbname")
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "pg_dump, PostgreSQL's backup tool, is not installed here (Debian: \
             apt install postgresql-client); where it is, run \
             pg_dump --format=custom --file={} \"{url}\" \
             with the password in PGPASSWORD",
            path.display()
        ),
        Err(error) => anyhow::bail!("cannot run pg_dump: {error}"),
    };
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        anyhow::bail!("pg_dump failed: {}", said.trim());
    }
    Ok(())
}
