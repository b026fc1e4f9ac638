//! Running work lane by lane: one worker per lane at a time, so that a
//! lane's items keep their order while lanes proceed side by side.
//!
//! Used by the processor (a lane per chat, over the inbox) and the sender
//! (a lane per chat plus one for button answers, over the outbox). Whoever
//! adds work names its lane on a channel ([`Wake`]); a lane named while its
//! worker runs is started again when that worker ends (the worker may have
//! stopped looking just before the work arrived). A scan of the database at
//! start and every `tick` catches the rest: work left by the last run, and
//! retries that have come due.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

/// Names lanes that have new work.
pub type Wake = mpsc::UnboundedSender<i64>;

/// How the runner ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// When `stop` turns true: running workers finish their current item
    /// (they see the same flag) and no new ones start.
    OnStop,
    /// When `stop` is true and no lane has work left: used to drain.
    WhenDrained,
}

pub struct Lanes {
    pub name: &'static str,
    pub woken: mpsc::UnboundedReceiver<i64>,
    pub stop: watch::Receiver<bool>,
    pub finish: Finish,
    pub tick: Duration,
    pub max_workers: usize,
}

impl Lanes {
    /// Runs until told to finish. `work(lane)` handles the lane's items in
    /// order and returns when none is due; `scan` lists lanes with work.
    pub async fn run<S, SF, W, WF>(mut self, scan: S, work: W)
    where
        S: Fn() -> SF,
        SF: Future<Output = Vec<i64>>,
        W: Fn(i64) -> WF,
        WF: Future<Output = ()> + Send + 'static,
    {
        let permits = Arc::new(Semaphore::new(self.max_workers));
        let mut running: HashMap<tokio::task::Id, i64> = HashMap::new();
        let mut busy: HashSet<i64> = HashSet::new();
        // Lanes named while their worker ran: started again when it ends.
        let mut dirty: HashSet<i64> = HashSet::new();
        let mut workers: JoinSet<()> = JoinSet::new();
        let start = |lane: i64, workers: &mut JoinSet<()>, running: &mut HashMap<_, _>| {
            let job = work(lane);
            let permits = permits.clone();
            let worker = workers.spawn(async move {
                let _permit = permits.acquire_owned().await;
                job.await;
            });
            running.insert(worker.id(), lane);
        };
        let mut scan_now = true;
        loop {
            let stopping = *self.stop.borrow();
            if scan_now {
                scan_now = false;
                let lanes = scan().await;
                if self.finish == Finish::WhenDrained
                    && stopping
                    && lanes.is_empty()
                    && workers.is_empty()
                {
                    break;
                }
                for lane in lanes {
                    if busy.insert(lane) {
                        start(lane, &mut workers, &mut running);
                    }
                }
            }
            if self.finish == Finish::OnStop && stopping {
                break;
            }
            tokio::select! {
                Some(lane) = self.woken.recv() => {
                    if busy.insert(lane) {
                        start(lane, &mut workers, &mut running);
                    } else {
                        dirty.insert(lane);
                    }
                }
                Some(ended) = workers.join_next_with_id() => {
                    let id = match ended {
                        Ok((id, ())) => id,
                        Err(error) => {
                            tracing::error!(runner = self.name, %error, "a worker died; its lane restarts");
                            error.id()
                        }
                    };
                    if let Some(lane) = running.remove(&id) {
                        if dirty.remove(&lane) {
                            start(lane, &mut workers, &mut running);
                        } else {
                            busy.remove(&lane);
                        }
                    }
                    // Draining ends only when a scan finds nothing left.
                    scan_now = stopping && workers.is_empty();
                }
                () = tokio::time::sleep(self.tick) => scan_now = true,
                _ = self.stop.changed(), if !stopping => scan_now = true,
            }
        }
        while workers.join_next().await.is_some() {}
    }
}
