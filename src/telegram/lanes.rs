//! Running work lane by lane: one worker per lane at a time, so that a
//! lane's items keep their order while lanes proceed side by side.
//!
//! Used by the processor (a lane per chat, over the inbox) and the sender
//! (a lane per chat plus one for button answers, over the outbox). The
//! runner learns which lanes have work from `scan`, starts a worker for
//! each idle one, and scans again whenever it is woken, a worker finishes
//! (work may have arrived just as it stopped looking) or `tick` passes
//! (retries that have come due).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

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
    pub wake: Arc<Notify>,
    pub stop: watch::Receiver<bool>,
    pub finish: Finish,
    pub tick: Duration,
    pub max_workers: usize,
}

impl Lanes {
    /// Runs until told to finish. `work(lane)` handles the lane's items in
    /// order and returns when none is due.
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
        let mut workers: JoinSet<()> = JoinSet::new();
        loop {
            let stopping = *self.stop.borrow();
            let lanes = scan().await;
            let idle = lanes.is_empty() && workers.is_empty();
            match self.finish {
                Finish::OnStop if stopping => break,
                Finish::WhenDrained if stopping && idle => break,
                _ => {}
            }
            for lane in lanes {
                if busy.insert(lane) {
                    let job = work(lane);
                    let permits = permits.clone();
                    let worker = workers.spawn(async move {
                        let _permit = permits.acquire_owned().await;
                        job.await;
                    });
                    running.insert(worker.id(), lane);
                }
            }
            // Wakes on new work, on a worker's end, on the tick, or on stop.
            tokio::select! {
                () = self.wake.notified() => {}
                Some(ended) = workers.join_next_with_id() => {
                    let id = match ended {
                        Ok((id, ())) => id,
                        Err(error) => {
                            tracing::error!(runner = self.name, %error, "a worker died; its lane restarts");
                            error.id()
                        }
                    };
                    if let Some(lane) = running.remove(&id) {
                        busy.remove(&lane);
                    }
                }
                () = tokio::time::sleep(self.tick) => {}
                _ = self.stop.changed(), if !stopping => {}
            }
        }
        while workers.join_next().await.is_some() {}
    }
}
