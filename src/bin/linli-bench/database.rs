//! Where a benchmark run keeps its ledger: an SQLite file in a temporary
//! folder (the default), or a fresh database on the PostgreSQL server that
//! `--database` names, dropped when the run is done with it.

use std::path::PathBuf;

use anyhow::Context as _;
use sqlx::{Connection as _, PgConnection};
use tempfile::TempDir;

/// A run's ledger database.
pub enum RunDatabase {
    Sqlite {
        /// Removed (with the file) when dropped.
        _dir: TempDir,
        file: PathBuf,
    },
    Postgres {
        server: String,
        name: String,
    },
}

impl RunDatabase {
    /// A new, empty database: on `server` (a `postgres://` URL) when given,
    /// else an SQLite file.
    pub async fn create(server: Option<&str>) -> anyhow::Result<RunDatabase> {
        let Some(server) = server else {
            let dir = tempfile::tempdir()?;
            let file = dir.path().join("linli.db");
            return Ok(RunDatabase::Sqlite { _dir: dir, file });
        };
        let name = format!(
            "linli_bench_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        );
        admin(server, &format!("CREATE DATABASE {name}")).await?;
        Ok(RunDatabase::Postgres {
            server: server.to_owned(),
            name,
        })
    }

    /// Its `DATABASE_URL`.
    pub fn url(&self) -> String {
        match self {
            RunDatabase::Sqlite { file, .. } => format!("sqlite:{}", file.display()),
            RunDatabase::Postgres { server, name } => match server.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => format!("{server}/{name}"),
            },
        }
    }

    /// The bytes it takes on disk now.
    pub async fn size(&self) -> anyhow::Result<u64> {
        match self {
            RunDatabase::Sqlite { file, .. } => Ok(std::fs::metadata(file)?.len()),
            RunDatabase::Postgres { .. } => {
                let mut connection = PgConnection::connect(&self.url()).await?;
                let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(&mut connection)
                    .await?;
                connection.close().await?;
                Ok(u64::try_from(size).unwrap_or_default())
            }
        }
    }

    /// Drops a PostgreSQL database (an SQLite file goes with its folder).
    pub async fn remove(self) -> anyhow::Result<()> {
        if let RunDatabase::Postgres { server, name } = &self {
            admin(
                server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
        Ok(())
    }
}

/// Runs `statement` on the server's own database.
async fn admin(server: &str, statement: &str) -> anyhow::Result<()> {
    let mut connection = PgConnection::connect(server)
        .await
        .with_context(|| format!("cannot connect to --database {server}"))?;
    sqlx::query(statement)
        .execute(&mut connection)
        .await
        .with_context(|| statement.to_owned())?;
    connection.close().await?;
    Ok(())
}
