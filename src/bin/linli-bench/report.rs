//! The benchmark's report: medians of the runs, ratios to the floor, and
//! each target of the benchmark issue met or missed, as Markdown.

use std::time::Duration;

use crate::burst::{BurstResult, Mode};
use crate::load::{Comparison, LoadResult};
use crate::scale::ScaleResult;
use crate::timers::TimersResult;

fn median_of(results: &[LoadResult], measure: impl Fn(&LoadResult) -> f64) -> f64 {
    let mut values: Vec<f64> = results.iter().map(measure).collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// Prints the report of runs whose ledgers were kept by `store`.
pub fn print(
    load: &Comparison,
    scale: &ScaleResult,
    store: &str,
    chats: usize,
    tasks: usize,
    runs: usize,
) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rate = |r: &[LoadResult]| median_of(r, LoadResult::updates_per_second);
    let p = |r: &[LoadResult], q: f64| median_of(r, |x| ms(x.percentile(q)));
    let calls = |r: &[LoadResult]| median_of(r, |x| x.calls_per_task);
    let messages = |r: &[LoadResult]| median_of(r, |x| x.messages_per_task);
    let rss = |r: &[LoadResult]| median_of(r, |x| x.peak_rss_kib as f64) / 1024.0;
    let (linli, floor) = (&load.linli[..], &load.floor[..]);
    let throughput_ratio = rate(linli) / rate(floor);
    let p99_ratio = p(linli, 0.99) / p(floor, 0.99);

    println!("## linli benchmark ({store})");
    println!();
    println!("{cores} cores; ledger in {store}; load: {chats} chats × {tasks} tasks, each need → claim → done by buttons ({} updates a run); medians of {runs} runs.", 3 * chats * tasks);
    println!();
    println!("| measure | linli | floor (bare teloxide) | linli / floor |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| updates/s | {:.0} | {:.0} | {throughput_ratio:.2} |",
        rate(linli),
        rate(floor)
    );
    for (name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
        println!(
            "| {name} offer → first answer (ms) | {:.2} | {:.2} | {:.2} |",
            p(linli, q),
            p(floor, q),
            p(linli, q) / p(floor, q)
        );
    }
    println!(
        "| Bot API calls per task | {:.2} | {:.2} | |",
        calls(linli),
        calls(floor)
    );
    println!(
        "| new group messages per task | {:.2} | {:.2} | |",
        messages(linli),
        messages(floor)
    );
    println!(
        "| peak RSS (MiB) | {:.1} | {:.1} | |",
        rss(linli),
        rss(floor)
    );
    println!();
    println!(
        "Ledger of {} tasks over 1,000 chats (busy chat: {} tasks), filled in {:.1} s:",
        scale.tasks,
        scale.busy_chat_tasks,
        scale.prefill.as_secs_f64()
    );
    println!();
    println!("| measure (busy chat, median of 101) | value |");
    println!("| --- | ---: |");
    println!("| /open query | {:.3} ms |", ms(scale.open));
    println!("| /mine query | {:.3} ms |", ms(scale.mine));
    println!("| /stats query | {:.3} ms |", ms(scale.stats));
    println!("| claim (one transaction) | {:.3} ms |", ms(scale.claim));
    println!("| database bytes per task | {:.0} |", scale.bytes_per_task);
    println!(
        "| start → first getUpdates (median of 5) | {:.1} ms |",
        ms(scale.startup)
    );
    println!();
    println!("| target | result | |");
    println!("| --- | --- | --- |");
    println!(
        "| throughput ≥ 0.6 × floor | {throughput_ratio:.2} × | {} |",
        verdict(throughput_ratio >= 0.6)
    );
    println!(
        "| p99 ≤ 20 ms | {:.2} ms | {} |",
        p(linli, 0.99),
        verdict(p(linli, 0.99) <= 20.0)
    );
    println!(
        "| 1 new group message per task | {:.2} | {} |",
        messages(linli),
        verdict((messages(linli) - 1.0).abs() < 1e-9)
    );
    println!(
        "| peak RSS ≤ 40 MiB | {:.1} MiB | {} |",
        rss(linli),
        verdict(rss(linli) <= 40.0)
    );
    println!(
        "| /open ≤ 5 ms at {} tasks | {:.3} ms | {} |",
        scale.tasks,
        ms(scale.open),
        verdict(ms(scale.open) <= 5.0)
    );
    println!(
        "| claim ≤ 5 ms at {} tasks | {:.3} ms | {} |",
        scale.tasks,
        ms(scale.claim),
        verdict(ms(scale.claim) <= 5.0)
    );
    println!(
        "| start ≤ 200 ms | {:.1} ms | {} |",
        ms(scale.startup),
        verdict(ms(scale.startup) <= 200.0)
    );
    println!();
    println!("p99 ratio to the floor: {p99_ratio:.2}.");
}

/// Prints what pending timers cost: the look for due ones and the idle
/// bot's CPU time, with none and with many waiting.
pub fn print_timers(timers: &TimersResult) {
    println!();
    println!("## Timers (one run; the look is the median of 201)");
    println!();
    println!("| pending timers | look for due timers | bot CPU per idle second |");
    println!("| ---: | ---: | ---: |");
    for side in [&timers.empty, &timers.full] {
        println!(
            "| {} | {:.3} ms | {:.1} ms |",
            side.pending,
            ms(side.look),
            ms(side.idle_cpu_per_second)
        );
    }
    let ratio = ms(timers.full.look) / ms(timers.empty.look).max(1e-6);
    println!();
    println!("Look ratio full/empty: {ratio:.2}.");
}

/// Prints the burst run, announcements and board mode side by side, with
/// the targets of board mode (interface.md, *Busy groups*).
pub fn print_burst(results: &[BurstResult], seconds: u64) {
    let Some(first) = results.first() else { return };
    println!();
    println!(
        "## Burst: {} /need in {seconds} s into one group (Telegram's limit on: 20 new messages a minute; pacing on)",
        first.requests
    );
    println!();
    let name = |mode: Mode| match mode {
        Mode::Announcements => "announcements",
        Mode::Board => "board mode",
    };
    let header: Vec<&str> = results.iter().map(|r| name(r.mode)).collect();
    println!("| measure | {} |", header.join(" | "));
    println!("| --- |{}", " ---: |".repeat(results.len()));
    let row = |label: &str, value: &dyn Fn(&BurstResult) -> String| {
        let values: Vec<String> = results.iter().map(value).collect();
        println!("| {label} | {} |", values.join(" | "));
    };
    let s = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    for (label, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        row(&format!("request → acknowledged, {label}"), &|r| {
            s(BurstResult::quantile(&r.acknowledged, q))
        });
    }
    for (label, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        row(&format!("request → shown to the group, {label}"), &|r| {
            s(BurstResult::quantile(&r.shown, q))
        });
    }
    row(
        "new group messages per task (the board not counted)",
        &|r| format!("{:.2}", r.messages_per_task()),
    );
    row("boards posted", &|r| r.boards_posted.to_string());
    row("edits", &|r| r.edits.to_string());
    row("429 answers met", &|r| r.too_many.to_string());
    row("requests dropped", &|r| r.dropped().to_string());
    row("peak RSS (MiB)", &|r| {
        format!("{:.1}", r.peak_rss_kib as f64 / 1024.0)
    });
    if let Some(board) = results.iter().find(|r| r.mode == Mode::Board) {
        let ack = BurstResult::quantile(&board.acknowledged, 0.99);
        let shown = BurstResult::quantile(&board.shown, 1.0);
        println!();
        println!("| board-mode target | result | |");
        println!("| --- | --- | --- |");
        println!(
            "| every request acknowledged within 2 s (p99) | {} | {} |",
            s(ack),
            verdict(ack <= Duration::from_secs(2))
        );
        println!(
            "| every request on the board within 10 s (max) | {} | {} |",
            s(shown),
            verdict(shown <= Duration::from_secs(10))
        );
        println!(
            "| 0 new group messages per task | {:.2} | {} |",
            board.messages_per_task(),
            verdict(board.messages_per_task() == 0.0)
        );
        println!(
            "| nothing dropped | {} | {} |",
            board.dropped(),
            verdict(board.dropped() == 0)
        );
    }
}
