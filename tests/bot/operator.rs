//! The operator's mistakes, made with the real `linli` binary: unknown
//! settings, values out of range or of the wrong kind, backups into missing
//! folders, exports of databases it may not write, and what the log looks
//! like in a file. Each is refused (or done) with one clear line and the
//! right exit code.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{environment, linli, message, run_bot, TestDatabase, ANN, GROUP};
use fake_telegram::{FakeTelegram, TOKEN};
use linli::config::RANGES;

/// What a finished `linli` said.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `command` to its end (at most 30 s: a start that should have been
/// refused may go on trying to reach Telegram).
fn outcome(command: &mut Command) -> Outcome {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("linli starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("linli did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Outcome {
    /// It exited 1 saying exactly `line` (after `linli: `), and nothing else.
    fn refused_with(&self, line: &str) {
        assert_eq!(self.code, Some(1), "{}", self.stderr);
        assert_eq!(self.stderr, format!("linli: {line}\n"));
    }

    /// It exited 1 with one line on stderr, no panic, each cause said once.
    fn refused_in_one_line(&self) -> &str {
        assert_eq!(self.code, Some(1), "{}", self.stderr);
        assert_eq!(self.stderr.lines().count(), 1, "{}", self.stderr);
        assert!(self.stderr.starts_with("linli: "), "{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(
            self.stderr.matches("(os error").count() <= 1,
            "a cause said twice: {}",
            self.stderr
        );
        self.stderr.trim_end()
    }

    fn succeeded(&self) -> &str {
        assert_eq!(self.code, Some(0), "{}", self.stderr);
        &self.stdout
    }
}

/// A folder for one test, with the database path linli is given in it.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        Place {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn db(&self) -> PathBuf {
        self.path("linli.db")
    }

    /// `linli ARGS` on this place's database, with `vars` besides.
    fn linli(&self, args: &[&str], vars: &[(&str, &str)]) -> Command {
        let mut command = linli();
        command
            .current_dir(self.dir.path())
            .env("DATABASE_URL", format!("sqlite:{}", self.db().display()))
            .args(args)
            .envs(vars.iter().copied());
        command
    }

    /// A settings file holding `text`, for `LINLI_CONFIG`.
    fn config(&self, text: &str) -> String {
        let path = self.path("linli.toml");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

/// `check`, and `run` with a token and a Bot API address (which a refused
/// start never reaches), both refused with `line` before the database is
/// opened: it is not even created.
fn check_and_run_refuse(vars: &[(&str, &str)], line: &str) {
    let place = Place::new();
    for action in ["check", "run"] {
        let mut command = place.linli(&[action], vars);
        command
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", "http://127.0.0.1:9/");
        outcome(&mut command).refused_with(line);
        assert!(!place.db().exists(), "{action} opened the database");
    }
}

#[test]
fn unknown_variables_are_refused_with_the_nearest_setting() {
    for (name, nearest) in [
        // One underscore between section and key.
        (
            "LINLI_CHAT_DEFAULT_LANGUAGE",
            "LINLI_CHAT__DEFAULT_LANGUAGE",
        ),
        (
            "LINLI_CHAT__DEFAULT_LANGAUGE",
            "LINLI_CHAT__DEFAULT_LANGUAGE",
        ),
        ("LINLI_CHATT__LIST_LIMIT", "LINLI_CHAT__LIST_LIMIT"),
        ("LINLI_TELEGRAM__PACE", "LINLI_TELEGRAM__PACING"),
        ("LINLI_CONFG", "LINLI_CONFIG"),
    ] {
        check_and_run_refuse(
            &[(name, "zh")],
            &format!("unknown setting {name}; did you mean {nearest}?"),
        );
    }
}

#[test]
fn unknown_keys_and_sections_in_the_file_are_refused_with_the_nearest_one() {
    let place = Place::new();
    let path = place.config("[chat]\ntimezone = \"Europe/Berlin\"\n");
    check_and_run_refuse(
        &[("LINLI_CONFIG", &path)],
        &format!("unknown key chat.timezone in {path}; did you mean chat.time_zone?"),
    );
    let path = place.config("[chatt]\nlist_limit = 5\n");
    check_and_run_refuse(
        &[("LINLI_CONFIG", &path)],
        &format!("unknown section [chatt] in {path}; did you mean [chat]?"),
    );
}

#[test]
fn our_variables_that_are_not_settings_are_accepted() {
    let place = Place::new();
    let path = place.config("[chat]\ntime_zone = \"Europe/Berlin\"\nlist_limit = 5\n");
    let output = outcome(&mut place.linli(
        &["check"],
        &[
            ("LINLI_CONFIG", path.as_str()),
            ("LINLI_BENCH_LOG", "linli=debug"),
            ("LINLI_CHAT__DEFAULT_LANGUAGE", "zh"),
        ],
    ));
    assert!(
        output.succeeded().starts_with("settings and database "),
        "{}",
        output.stdout
    );
}

/// Every whole-number setting, one past each end of its range, from the
/// environment; and one from the file.
#[test]
fn every_range_is_enforced_naming_the_key_and_the_range() {
    for (key, min, max) in RANGES {
        let variable = format!("LINLI_{}", key.replace('.', "__").to_ascii_uppercase());
        let mut wrong = vec![max + 1];
        if min > 0 {
            wrong.push(min - 1);
        }
        for value in wrong {
            let place = Place::new();
            let value_text = value.to_string();
            outcome(&mut place.linli(&["check"], &[(&variable, &value_text)])).refused_with(
                &format!(
                    "{key} must be a whole number from {min} to {max}, not {value} \
                     (set by {variable})"
                ),
            );
        }
    }
    let place = Place::new();
    let path = place.config("[chat]\nlist_limit = 0\n");
    check_and_run_refuse(
        &[("LINLI_CONFIG", &path)],
        &format!("chat.list_limit must be a whole number from 1 to 100, not 0 (set in {path})"),
    );
    check_and_run_refuse(
        &[("LINLI_DATABASE__HANDLED_RETENTION_HOURS", "1")],
        "database.handled_retention_hours must be a whole number from 24 to 8760, not 1 \
         (set by LINLI_DATABASE__HANDLED_RETENTION_HOURS)",
    );
    check_and_run_refuse(
        &[("LINLI_TELEGRAM__REQUEST_TIMEOUT_SECONDS", "10")],
        "telegram.request_timeout_seconds must be longer than telegram.poll_timeout_seconds (10), \
         not 10 (set by LINLI_TELEGRAM__REQUEST_TIMEOUT_SECONDS)",
    );
}

#[test]
fn a_bad_value_says_what_its_key_expects() {
    check_and_run_refuse(
        &[("LINLI_CHAT__DEFAULT_LANGUAGE", "fr")],
        "chat.default_language must be \"en\" or \"zh\", not \"fr\" \
         (set by LINLI_CHAT__DEFAULT_LANGUAGE)",
    );
    check_and_run_refuse(
        &[("LINLI_CHAT__LIST_LIMIT", "many")],
        "chat.list_limit must be a whole number from 1 to 100, not \"many\" \
         (set by LINLI_CHAT__LIST_LIMIT)",
    );
    check_and_run_refuse(
        &[("LINLI_TELEGRAM__PACING", "sometimes")],
        "telegram.pacing must be true or false, not \"sometimes\" (set by LINLI_TELEGRAM__PACING)",
    );
    let place = Place::new();
    let path = place.config("[chat]\ntime_zone = \"Mars/Base\"\n");
    check_and_run_refuse(
        &[("LINLI_CONFIG", &path)],
        &format!(
            "chat.time_zone must be an IANA time zone name such as \"Asia/Shanghai\" or \
             \"Europe/Berlin\", not \"Mars/Base\" (set in {path})"
        ),
    );
    let path = place.config("[chat]\nflat_max_chars = \"wide\"\n");
    check_and_run_refuse(
        &[("LINLI_CONFIG", &path)],
        &format!(
            "chat.flat_max_chars must be a whole number from 1 to 100, not \"wide\" (set in {path})"
        ),
    );
}

/// A missing token, a settings file or database that cannot be read: one
/// line each, exit 1, no panic, each cause once.
#[test]
fn files_that_cannot_be_used_are_one_line_each() {
    let place = Place::new();
    let line = outcome(&mut place.linli(&["run"], &[]))
        .refused_in_one_line()
        .to_owned();
    assert!(line.contains("TELOXIDE_TOKEN is not set"), "{line}");

    let folder = place.dir.path().display().to_string();
    let line = outcome(&mut place.linli(&["check"], &[("LINLI_CONFIG", &folder)]))
        .refused_in_one_line()
        .to_owned();
    assert!(
        line.starts_with(&format!("linli: cannot read LINLI_CONFIG file {folder}: ")),
        "{line}"
    );

    let path = place.config("[chat\nlist_limit = 5\n");
    let line = outcome(&mut place.linli(&["check"], &[("LINLI_CONFIG", &path)]))
        .refused_in_one_line()
        .to_owned();
    assert!(
        line.starts_with(&format!(
            "linli: LINLI_CONFIG file {path} is not valid TOML: TOML parse error at line 1"
        )),
        "{line}"
    );

    // The database is a folder; and it is in a folder that cannot be made.
    for url in [
        format!("sqlite:{folder}"),
        "sqlite:/proc/nope/linli.db".to_owned(),
    ] {
        let line = outcome(linli().arg("check").env("DATABASE_URL", &url))
            .refused_in_one_line()
            .to_owned();
        assert!(line.contains(url.trim_start_matches("sqlite:")), "{line}");
    }
}

/// Runs `command` as another user (nobody) when the test runs as root, for
/// whom file modes stop nothing.
fn without_root(command: &mut Command, place: &Place) {
    if std::fs::metadata(place.dir.path()).unwrap().uid() == 0 {
        command.uid(65_534).gid(65_534);
    }
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// "Permission denied" comes once, with what it was denied for.
#[test]
fn a_refused_permission_is_said_once() {
    let place = Place::new();
    let locked = place.path("locked");
    std::fs::create_dir(&locked).unwrap();
    set_mode(place.dir.path(), 0o755);
    set_mode(&locked, 0o555);
    let url = format!("sqlite:{}/linli.db", locked.display());
    let mut check = linli();
    check.arg("check").env("DATABASE_URL", &url);
    without_root(&mut check, &place);
    let line = outcome(&mut check).refused_in_one_line().to_owned();
    assert_eq!(line.matches("Permission denied").count(), 1, "{line}");
    assert!(line.contains(&locked.display().to_string()), "{line}");
}

#[test]
fn backup_into_a_missing_folder_names_the_folder() {
    let place = Place::new();
    outcome(&mut place.linli(&["check"], &[])).succeeded();
    let folder = place.path("backups");
    let copy = folder.join("copy.db");
    let copy_text = copy.display().to_string();
    outcome(&mut place.linli(&["backup", &copy_text], &[])).refused_with(&format!(
        "cannot back up to {copy_text}: the folder {} does not exist",
        folder.display()
    ));
    assert!(!folder.exists());
}

/// The copy holds flats: it is its owner's only, whatever the umask; and
/// a second backup to it is refused, saying so once.
#[test]
fn a_backup_is_readable_by_its_owner_only() {
    let place = Place::new();
    outcome(&mut place.linli(&["check"], &[])).succeeded();
    let copy = place.path("copy.db");
    let copy_text = copy.display().to_string();
    let stdout = outcome(&mut place.linli(&["backup", &copy_text], &[]))
        .succeeded()
        .to_owned();
    assert!(stdout.starts_with("backed up "), "{stdout}");
    assert_eq!(std::fs::metadata(&copy).unwrap().mode() & 0o777, 0o600);
    // The copy is a database export can read.
    let mut export = linli();
    export
        .arg("export")
        .env("DATABASE_URL", format!("sqlite:{copy_text}"));
    assert_eq!(outcome(&mut export).succeeded().trim(), "[]");

    let before = std::fs::read(&copy).unwrap();
    let again = outcome(&mut place.linli(&["backup", &copy_text], &[]));
    again.refused_with(&format!(
        "cannot back up to {copy_text}: it already exists, and a backup never overwrites"
    ));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

/// `export` only reads: a database file and folder that linli may not
/// write (as root, the export runs as nobody, since modes do not stop root)
/// export all the same, and a missing database is not created.
#[tokio::test]
async fn export_reads_a_database_it_may_not_write() {
    let fake = FakeTelegram::start().await;
    let place = Place::new();
    let vars = environment(&fake, &TestDatabase::sqlite(&place.db()));
    let mut bot = run_bot(&vars);
    let id = fake.next_message_id(GROUP);
    fake.push_update(
        serde_json::json!({"message": message(GROUP, id, ANN.json(), "/need pickup 7-701")}),
    );
    fake.wait_for_calls("sendMessage", 1).await;
    // While the bot runs, what it wrote is read (from the WAL too).
    let exported = outcome(&mut place.linli(&["export"], &[]))
        .succeeded()
        .to_owned();
    let tasks: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(tasks[0]["flat"], "7-701");
    let _ = bot.kill();
    let _ = bot.wait();

    // The bot was killed: check opens the database once more, as a start would.
    outcome(&mut place.linli(&["check"], &[])).succeeded();
    for entry in std::fs::read_dir(place.dir.path()).unwrap() {
        set_mode(&entry.unwrap().path(), 0o444);
    }
    set_mode(place.dir.path(), 0o555);
    let listing = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let files_before = listing(place.dir.path());
    let db_before = std::fs::read(place.db()).unwrap();
    for format in ["json", "csv"] {
        let mut export = place.linli(&["export", "--format", format], &[]);
        without_root(&mut export, &place);
        let stdout = outcome(&mut export).succeeded().to_owned();
        assert!(stdout.contains("7-701"), "{format}: {stdout}");
    }
    assert_eq!(std::fs::read(place.db()).unwrap(), db_before);
    assert_eq!(listing(place.dir.path()), files_before);
    set_mode(place.dir.path(), 0o755);

    let missing = place.path("missing.db");
    let mut export = linli();
    export
        .arg("export")
        .env("DATABASE_URL", format!("sqlite:{}", missing.display()));
    outcome(&mut export).refused_with(&format!(
        "the database {} does not exist (`linli check` creates it)",
        missing.display()
    ));
    assert!(!missing.exists());
}

/// With stderr going to a pipe (as to a log file), log lines carry no
/// colour codes; and the token is not in them.
#[test]
fn logs_into_a_pipe_have_no_colour_codes() {
    let place = Place::new();
    let mut bot = place
        .linli(&["run"], &[])
        .env("TELOXIDE_TOKEN", TOKEN)
        // Nothing listens there: the bot logs that it cannot reach Telegram.
        .env("TELOXIDE_API_URL", "http://127.0.0.1:9/")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = bot.stderr.take().unwrap();
    let (lines, line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for text in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(text).is_err() {
                break;
            }
        }
    });
    let first = line.recv_timeout(Duration::from_secs(30));
    let _ = bot.kill();
    let _ = bot.wait();
    let first = first.expect("a log line within 30 s");
    assert!(first.contains("cannot reach Telegram yet"), "{first:?}");
    assert!(first.contains("WARN"), "{first:?}");
    assert!(!first.contains('\u{1b}'), "colour codes: {first:?}");
    assert!(!first.contains(TOKEN), "the token is logged: {first:?}");
}
