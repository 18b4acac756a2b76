//! `wallet archive --before YYYY-MM`: moves whole months of the ledger out of the
//! database into checksummed CSV files, oldest month first, each in one transaction.
//!
//! For one month, in one READ COMMITTED transaction that holds `db::archive::lock_month`'s
//! locks (no second archive and no `wallet check-ledger` meanwhile, no partition created,
//! no row added to the month):
//!
//! 1. the month must continue every player's carried ledger (`db::archive::BOUNDARY`),
//!    so that what is carried stays the sum of everything archived;
//! 2. the rows are copied to `<dir>/<partition>.csv.partial` while their SHA-256 is
//!    taken, the file is synced, read again through the file system and hashed, and
//!    the rows are copied a second time and hashed: the three digests must agree;
//! 3. what stays is written: a receipt per row (exactly one per row, or nothing goes),
//!    each player's carried seq and balance, the tombstones, the archive's record;
//! 4. the file is renamed to `<partition>.csv`;
//! 5. the partition is detached and dropped, and the transaction commits.
//!
//! A failure anywhere before the commit leaves the database as it was (a file may be
//! left behind; the next run writes it again).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chrono::NaiveDate;
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_postgres::IsolationLevel;

use crate::config::Settings;
use crate::db;
use crate::db::archive::ArchiveFile;

#[derive(Debug, Clone, clap::Args)]
pub struct ArchiveArgs {
    /// Archive every month before this one (`YYYY-MM`, UTC). At most last month: this
    /// month and the one before always stay.
    #[arg(long, value_parser = parse_month)]
    pub before: NaiveDate,
    /// Where the archive files go (created when missing).
    #[arg(long, default_value = "ledger-archive")]
    pub dir: PathBuf,
}

/// `YYYY-MM` as the first day of that month.
fn parse_month(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a month (YYYY-MM)"))
}

/// One archived month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedMonth {
    pub month: NaiveDate,
    pub partition: String,
    pub archive: ArchiveFile,
}

pub async fn main(args: ArchiveArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let pool = db::single_connection_pool(&settings.database.url, "wallet-archive")?;
    let mut client = db::acquire(&pool).await?;
    let archived = archive_before(&mut client, args.before, &args.dir).await?;
    if archived.is_empty() {
        println!(
            "nothing to archive: no month of the ledger before {}",
            args.before
        );
    }
    for a in &archived {
        println!(
            "archived {} ({}): {} rows, {} bytes, sha256 {}, {}",
            a.month.format("%Y-%m"),
            a.partition,
            a.archive.rows,
            a.archive.bytes,
            a.archive.sha256,
            a.archive.file
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Archives every month of the ledger before `before`, oldest first; see the module.
pub async fn archive_before(
    client: &mut db::Client,
    before: NaiveDate,
    dir: &Path,
) -> anyhow::Result<Vec<ArchivedMonth>> {
    let pg: &mut tokio_postgres::Client = client;
    let months = {
        let tx = pg.transaction().await?;
        let newest = db::archive::newest_allowed_before(&tx).await?;
        if before > newest {
            bail!(
                "--before {} would archive a month that may still get calls: at most {} \
                 (this month and the one before stay)",
                before.format("%Y-%m"),
                newest.format("%Y-%m")
            );
        }
        let mut months = db::partitions::list(&tx).await?;
        months.retain(|(month, _)| *month < before);
        months
    };
    if months.is_empty() {
        return Ok(Vec::new());
    }
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating {}", dir.display()))?;
    let dir = tokio::fs::canonicalize(dir).await?;
    let mut archived = Vec::new();
    for (month, partition) in months {
        let archive = archive_month(pg, month, &partition, &dir)
            .await
            .with_context(|| format!("archiving {partition}"))?;
        tracing::info!(%partition, rows = archive.rows, sha256 = %archive.sha256, "month archived");
        archived.push(ArchivedMonth {
            month,
            partition,
            archive,
        });
    }
    Ok(archived)
}

/// How many times the partition's detach is tried (200 ms of waiting each at most).
const DETACH_ATTEMPTS: u32 = 50;

async fn archive_month(
    pg: &mut tokio_postgres::Client,
    month: NaiveDate,
    partition: &str,
    dir: &Path,
) -> anyhow::Result<ArchiveFile> {
    // READ COMMITTED: the SHARE lock freezes the month's rows, so every statement sees
    // the same rows without one snapshot held (with the vacuum horizon) through the
    // copies; the transaction id the receipts take holds the horizon from there on.
    let mut tx = pg
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    db::archive::lock_month(&tx, partition).await?;

    let breaks = db::archive::boundary_breaks(&tx, partition).await?;
    if !breaks.is_empty() {
        let shown: Vec<String> = breaks
            .iter()
            .take(20)
            .map(|(player, what)| format!("  player {player}: {what}"))
            .collect();
        bail!(
            "the month does not continue the carried ledger of {} player(s); run `wallet \
             check-ledger`. Nothing was archived.\n{}",
            breaks.len(),
            shown.join("\n")
        );
    }
    let rows = db::archive::row_count(&tx, partition).await?;

    let file = dir.join(format!("{partition}.csv"));
    let partial = dir.join(format!("{partition}.csv.partial"));
    let (written, bytes) = copy_to_file(&tx, partition, &partial).await?;
    let read_back = hash_file(&partial).await?;
    let (again, _) = copy_hashed(&tx, partition, None).await?;
    if written != read_back || written != again {
        bail!(
            "the archive of {partition} does not verify: sha256 written {written}, read back \
             {read_back}, copied again {again}. Nothing was archived."
        );
    }
    let archive = ArchiveFile {
        file: file.display().to_string(),
        rows,
        bytes: i64::try_from(bytes)?,
        sha256: written,
    };
    let receipts = db::archive::keep_what_stays(&tx, month, partition, &archive).await?;
    if i64::try_from(receipts)? != rows {
        bail!(
            "{partition} has {rows} rows but only {receipts} are the applied record of their \
             call; run `wallet check-ledger`. Nothing was archived."
        );
    }
    // The file takes its name once everything it stands for is checked, and before the
    // detach: from there to the commit money calls wait, so nothing slower than SQL
    // happens in between. A run that stops after the rename leaves a `.csv` of a month
    // that is still live; the next run writes it again.
    tokio::fs::rename(&partial, &file).await?;
    tokio::fs::File::open(dir).await?.sync_all().await?;
    if !db::archive::detach_and_drop(&mut tx, partition, DETACH_ATTEMPTS).await? {
        bail!(
            "the ledger stayed busy: {partition} could not be detached in {DETACH_ATTEMPTS} \
             attempts. Nothing was archived; run it again."
        );
    }
    tx.commit().await?;
    Ok(archive)
}

/// Copies the month into a new file at `path`, synced; returns its SHA-256 and size.
async fn copy_to_file(
    tx: &tokio_postgres::Transaction<'_>,
    partition: &str,
    path: &Path,
) -> anyhow::Result<(String, u64)> {
    let mut file = tokio::fs::File::create(path)
        .await
        .with_context(|| format!("creating {}", path.display()))?;
    let copied = copy_hashed(tx, partition, Some(&mut file)).await?;
    file.flush().await?;
    file.sync_all().await?;
    Ok(copied)
}

/// Copies the month out, into `file` when given; returns the SHA-256 and size of what
/// was copied.
async fn copy_hashed(
    tx: &tokio_postgres::Transaction<'_>,
    partition: &str,
    mut file: Option<&mut tokio::fs::File>,
) -> anyhow::Result<(String, u64)> {
    let stream = db::archive::copy_out(tx, partition).await?;
    futures::pin_mut!(stream);
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = stream.try_next().await? {
        hash.update(&chunk);
        bytes += chunk.len() as u64;
        if let Some(file) = file.as_mut() {
            file.write_all(&chunk).await?;
        }
    }
    Ok((hex::encode(hash.finalize()), bytes))
}

/// The SHA-256 of a file's bytes as they are on disk.
pub async fn hash_file(path: &Path) -> anyhow::Result<String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(hex::encode(hash.finalize()))
}
