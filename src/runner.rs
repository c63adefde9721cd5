//! The run stage: turns selected checks and resolved targets into results.
//!
//! For each target it plans endpoints (address × port role), groups the checks that share a
//! session (same endpoint, same [`Stage`]) so one connection serves them in turn, and runs the
//! groups concurrently under one semaphore of `concurrency` permits per target: a target never
//! has more connections open than that. The first connection to an endpoint is awaited by the
//! others ([`crate::probe::contact::Contact`]), so a dead or tarpitting port costs one timeout, not one per check;
//! every endpoint's first contact is scheduled before any endpoint's second group, so a dead
//! server costs about one timeout per `concurrency` of its ports.
//!
//! [`run`] checks targets that share one configuration; [`run_jobs`] (used by `batch`) checks
//! [`Job`]s that each bring their own, `parallel_targets` at a time, and tells an optional
//! callback about each target as it finishes (a progress display: the runner has no UI).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::Semaphore;

use crate::check::{
    Ctx, Endpoint, EndpointState, Logins, Role, Scope, SessionSlot, Settings, Stage, TargetInfo,
    TargetMemo, Verdict,
};
use crate::outcome::{Category, CheckResult, Fix, Report, Status, TargetReport, Tool, millis};
use crate::probe::dns::Dns;
use crate::probe::net::NetOptions;
use crate::probe::smtp::Session;
use crate::target::{ResolvedTarget, resolve};

pub use crate::scenario::SelectedCheck;

/// Everything a run needs besides the targets.
pub struct RunConfig {
    pub checks: Vec<SelectedCheck>,
    pub settings: Settings,
    pub net: NetOptions,
    pub dns: Dns,
    /// Port for each role (scenario `ports`).
    pub ports: BTreeMap<Role, u16>,
    /// Connections in flight per target.
    pub concurrency: usize,
    /// Targets in flight.
    pub parallel_targets: usize,
    /// The mail domain given on the command line.
    pub domain: Option<String>,
    /// Longest one target may take, all checks together (`--target-budget`; default
    /// [`BUDGET_TIMEOUTS`] × `--timeout`).
    pub target_budget: Duration,
}

/// The default target budget, in timeouts: far above what a slow but working server needs (a
/// class run of the lab takes a few timeouts per target), far below what a server answering
/// every line just within the timeout would cost.
pub const BUDGET_TIMEOUTS: u32 = 12;

impl RunConfig {
    fn port(&self, role: Role) -> u16 {
        self.ports
            .get(&role)
            .copied()
            .unwrap_or_else(|| role.default_port())
    }

    /// Longest a single check may take, whatever it does: a safety net under the per-operation
    /// timeouts, so no check can hold a run forever.
    fn check_budget(&self) -> Duration {
        self.net.timeout * 8 + self.settings.smtp.retry_pause * 2
    }
}

/// Runs every selected check on every target; targets run `parallel_targets` at a time.
pub async fn run(targets: &[String], config: &RunConfig) -> Report {
    let jobs: Vec<Job<'_>> = targets
        .iter()
        .map(|target| Job {
            input: target.clone(),
            name: None,
            domain: config.domain.clone(),
            config,
        })
        .collect();
    run_jobs(&jobs, config.parallel_targets, None).await
}

/// One target and the configuration to check it with: `batch` gives each student's server
/// its own (profile, relay domain, credentials may differ from student to student).
pub struct Job<'a> {
    /// The target as the user gave it.
    pub input: String,
    /// A display name for reports (a student's).
    pub name: Option<String>,
    /// The mail domain, when given.
    pub domain: Option<String>,
    pub config: &'a RunConfig,
}

/// Told about each target as soon as its checks are done, in completion order, with the
/// target's index in `jobs` (progress displays, streamed reports). Called on a runtime
/// thread: it must not block for long.
pub type OnTargetDone<'a> = &'a (dyn Fn(usize, &TargetReport) + Send + Sync);

/// Runs `jobs`, `parallel_targets` at a time (each still bounded by its own configuration's
/// connection limit); the report lists them in the order given.
pub async fn run_jobs(
    jobs: &[Job<'_>],
    parallel_targets: usize,
    on_target_done: Option<OnTargetDone<'_>>,
) -> Report {
    let started_at = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    let gate = &Semaphore::new(parallel_targets.max(1));
    let reports = join_all(jobs.iter().enumerate().map(|(index, job)| async move {
        let _permit = gate.acquire().await.expect("semaphore never closed");
        let target_started = Instant::now();
        let mut report = run_target(&job.input, job.domain.as_deref(), job.config).await;
        report.duration_ms = Some(millis(target_started.elapsed()));
        report.name.clone_from(&job.name);
        if let Some(hook) = on_target_done {
            hook(index, &report);
        }
        report
    }))
    .await;
    Report {
        schema: crate::outcome::REPORT_SCHEMA.into(),
        tool: Tool::this(),
        started_at,
        duration_ms: millis(started.elapsed()),
        targets: reports,
    }
}

/// The order of the login probes sent to one server, shared by every target of the process
/// that reaches it (two students on one server): the real logins first, then the made-up
/// ones (which wait for another target's real logins only for a while, [`LoginPlan`]). A server that penalizes the client's address for each failed login (Dovecot) then
/// holds the real login back only for what earlier runs left, and a successful real login
/// resets the penalty before the made-up probes build it up again. The made-up probes of a
/// run go together rather than in turn: concurrent failures wait out one penalty together,
/// where a queue would add them up.
struct LoginLane {
    /// Real logins planned and not yet done: the made-up probes wait for them.
    real_pending: tokio::sync::watch::Sender<usize>,
}

/// The lane of one server address.
fn login_lane(ip: std::net::IpAddr) -> Arc<LoginLane> {
    static LANES: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, Arc<LoginLane>>>,
    > = std::sync::LazyLock::new(Default::default);
    lock(&LANES)
        .entry(ip)
        .or_insert_with(|| {
            Arc::new(LoginLane {
                real_pending: tokio::sync::watch::channel(0).0,
            })
        })
        .clone()
}

/// One target's place in its server's lane: the real logins it planned, given back as they
/// finish, and all at once when the target ends (a real login cut off by the budget must not
/// hold the made-up probes back).
struct LoginPlan {
    lane: Arc<LoginLane>,
    /// This target's real logins not yet done.
    own: tokio::sync::watch::Sender<usize>,
    /// How long a made-up probe waits for the real logins of other targets on the server: a
    /// class that keeps starting students must not starve it (the late answer to a real
    /// login is allowed for anyway, `LOGIN_DELAY`).
    others_wait: Duration,
}

impl LoginPlan {
    fn new(lane: Arc<LoginLane>, real: usize, others_wait: Duration) -> LoginPlan {
        lane.real_pending.send_modify(|pending| *pending += real);
        LoginPlan {
            lane,
            own: tokio::sync::watch::channel(real).0,
            others_wait,
        }
    }

    /// Waits until this check may send its credentials: a made-up login once the target's
    /// real logins are done, and those of other targets on the server (for a while). The
    /// returned turn, dropped when the check is done, counts a real login as done.
    async fn turn(&self, logins: Logins) -> Option<LoginTurn<'_>> {
        match logins {
            Logins::None => None,
            Logins::Real => Some(LoginTurn { plan: self }),
            Logins::MadeUp => {
                // The senders live in the plan and the lane, which outlive these waits.
                let _ = self.own.subscribe().wait_for(|n| *n == 0).await;
                let mut everyone = self.lane.real_pending.subscribe();
                let _ =
                    tokio::time::timeout(self.others_wait, everyone.wait_for(|n| *n == 0)).await;
                None
            }
        }
    }

    fn real_done(&self) {
        let mut took = false;
        self.own.send_if_modified(|n| {
            took = *n > 0;
            *n = n.saturating_sub(1);
            took
        });
        if took {
            self.lane
                .real_pending
                .send_modify(|pending| *pending = pending.saturating_sub(1));
        }
    }
}

impl Drop for LoginPlan {
    fn drop(&mut self) {
        let left = *self.own.borrow();
        self.lane
            .real_pending
            .send_modify(|pending| *pending = pending.saturating_sub(left));
    }
}

/// A real login under way: done when dropped.
struct LoginTurn<'a> {
    plan: &'a LoginPlan,
}

impl Drop for LoginTurn<'_> {
    fn drop(&mut self) {
        self.plan.real_done();
    }
}

/// A selected check and its place in the catalog order (results are sorted by it).
type IndexedCheck = (usize, SelectedCheck);

/// One unit of work: checks that run one after the other on one endpoint.
struct Group {
    /// `None` for target-scoped checks.
    endpoint: Option<Arc<Endpoint>>,
    stage: Stage,
    state: Arc<EndpointState>,
    checks: Vec<IndexedCheck>,
}

/// What the groups of a target have produced so far: kept outside the groups' futures so that
/// a target whose budget runs out still reports what did finish.
#[derive(Default)]
struct Sink {
    results: std::sync::Mutex<Vec<Finished>>,
    /// Checks that finished without a result (`Verdict::omitted`).
    omitted: std::sync::Mutex<Vec<(usize, Option<Arc<Endpoint>>)>>,
}

/// A check's result, and the one it gives instead when nothing answers on its host
/// ([`Verdict::if_host_silent`]), which only the end of the target tells.
struct Finished {
    index: usize,
    endpoint: Option<Arc<Endpoint>>,
    result: CheckResult,
    if_host_silent: Option<CheckResult>,
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A check the plan scheduled, to report as unfinished when the budget runs out.
struct Planned {
    index: usize,
    endpoint: Option<Arc<Endpoint>>,
    label: Option<crate::outcome::Endpoint>,
    selected: SelectedCheck,
}

async fn run_target(input: &str, domain: Option<&str>, config: &RunConfig) -> TargetReport {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + config.target_budget;
    let resolved = resolve(input, domain, &config.dns).await;
    let target = TargetInfo {
        input: input.to_string(),
        domain: resolved.domain.clone(),
        hosts: resolved.hosts.clone(),
        evidence: resolved.evidence.clone(),
        kind: resolved.kind,
        domain_note: resolved.domain_note.clone(),
    };
    let addresses: Vec<String> = resolved
        .addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    // Nothing to connect to: each check says why at once. After a lone null MX the DNS checks
    // still run: what a domain that takes no mail publishes (SPF, DMARC) still matters.
    let unresolved = match &resolved.problem {
        Some(problem) => unresolved_results(&resolved, problem, config),
        None => Vec::new(),
    };
    let groups: Vec<Group> = first_contacts_first(plan(&resolved, config))
        .into_iter()
        .filter(|group| {
            resolved.problem.is_none() || (resolved.null_mx && group.endpoint.is_none())
        })
        .collect();
    let states: Vec<(std::net::IpAddr, Arc<EndpointState>)> = groups
        .iter()
        .filter_map(|group| {
            group
                .endpoint
                .as_ref()
                .map(|endpoint| (endpoint.ip, group.state.clone()))
        })
        .collect();
    let planned: Vec<Planned> = groups
        .iter()
        .flat_map(|group| {
            group.checks.iter().map(|(index, selected)| Planned {
                index: *index,
                endpoint: group.endpoint.clone(),
                label: group.endpoint.as_ref().map(|e| e.label(group.stage)),
                selected: *selected,
            })
        })
        .collect();
    // The real logins this target will try (none without --user: those checks skip).
    let real_logins = if config.settings.credentials.is_some() {
        planned
            .iter()
            .filter(|p| p.selected.check.logins() == Logins::Real)
            .count()
    } else {
        0
    };
    // One lane per server, named by the target's first address (MX hosts of one domain
    // usually share one authentication service).
    let logins = resolved
        .addresses()
        .first()
        .map(|ip| LoginPlan::new(login_lane(*ip), real_logins, config.net.timeout * 2));
    let semaphore = Semaphore::new(config.concurrency.max(1));
    let memo = TargetMemo::default();
    let sink = Sink::default();
    let runs = groups.into_iter().map(|group| {
        let (semaphore, target, memo, sink) = (&semaphore, &target, &memo, &sink);
        let logins = logins.as_ref();
        async move {
            let _permit = semaphore.acquire().await.expect("semaphore never closed");
            run_group(group, target, memo, semaphore, config, sink, logins).await
        }
    });
    let exhausted = tokio::time::timeout_at(deadline, join_all(runs))
        .await
        .is_err();
    // A host answered when any of its endpoints did: only then is a closed port a finding.
    let answered: std::collections::BTreeSet<std::net::IpAddr> = states
        .iter()
        .filter(|(_, state)| state.contact.answered())
        .map(|(ip, _)| *ip)
        .collect();
    let mut results: Vec<(usize, Option<Arc<Endpoint>>, CheckResult)> =
        std::mem::take(&mut *lock(&sink.results))
            .into_iter()
            .map(|done| {
                let result = match (done.if_host_silent, &done.endpoint) {
                    (Some(silent), Some(endpoint)) if !answered.contains(&endpoint.ip) => silent,
                    _ => done.result,
                };
                (done.index, done.endpoint, result)
            })
            .collect();
    if exhausted {
        // Whatever had not finished is dropped mid-way (its connections close with it) and
        // says so; what finished keeps its verdict.
        let omitted = lock(&sink.omitted);
        let finished = |p: &Planned| {
            results
                .iter()
                .any(|(i, e, _)| *i == p.index && *e == p.endpoint)
                || omitted
                    .iter()
                    .any(|(i, e)| *i == p.index && *e == p.endpoint)
        };
        let unfinished: Vec<_> = planned
            .into_iter()
            .filter(|p| !finished(p))
            .map(|p| {
                let verdict = Verdict::error(format!(
                    "target budget exhausted: the target's {} s (--target-budget) ran out before this check finished",
                    config.target_budget.as_secs_f64()
                ));
                (
                    p.index,
                    p.endpoint,
                    to_result(p.selected, p.label, verdict, started),
                )
            })
            .collect();
        drop(omitted);
        results.extend(unfinished);
    }
    results.extend(unresolved);
    results.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let results = results.into_iter().map(|(_, _, result)| result).collect();
    let mut report = TargetReport::new(input.to_string(), resolved.domain, addresses, results);
    // A lone null MX is a finding that the DNS checks go on from; any other problem means
    // nothing could be checked.
    if !resolved.null_mx {
        report.error = resolved.problem;
    }
    report.budget_ms = Some(millis(config.target_budget));
    report
}

/// Orders the groups so that every endpoint's first group comes before any endpoint's second
/// one (the runner's semaphore is fair, so they also start in that order). Dead or tarpitting
/// endpoints are then found out together, `concurrency` at a time, in about
/// endpoints / concurrency timeouts; every later group on them fails at once through the gate.
/// Results do not depend on the order: they are sorted afterwards.
///
/// Groups with a real login go first of all: made-up login probes wait for the real ones
/// ([`LoginPlan::turn`]) while holding a connection permit, so the real ones must already
/// hold theirs (the semaphore is fair).
fn first_contacts_first(groups: Vec<Group>) -> Vec<Group> {
    let mut seen: BTreeMap<Endpoint, usize> = BTreeMap::new();
    let mut ranked: Vec<(bool, usize, usize, Group)> = groups
        .into_iter()
        .enumerate()
        .map(|(index, group)| {
            let rank = group.endpoint.as_ref().map_or(0, |endpoint| {
                let count = seen.entry((**endpoint).clone()).or_insert(0);
                *count += 1;
                *count - 1
            });
            let real_login = group
                .checks
                .iter()
                .any(|(_, selected)| selected.check.logins() == Logins::Real);
            (!real_login, rank, index, group)
        })
        .collect();
    ranked.sort_by_key(|(later, rank, index, _)| (*later, *rank, *index));
    ranked.into_iter().map(|(_, _, _, group)| group).collect()
}

/// Groups checks by endpoint and stage; `Own` checks get a group each, target-scoped checks
/// one group per category.
fn plan(resolved: &ResolvedTarget, config: &RunConfig) -> Vec<Group> {
    let mut states: BTreeMap<Endpoint, Arc<EndpointState>> = BTreeMap::new();
    let mut shared: BTreeMap<(Arc<Endpoint>, Stage), Vec<IndexedCheck>> = BTreeMap::new();
    let mut groups = Vec::new();
    // Target-level checks of one category run in turn in one group: they mostly wait on DNS or
    // on one shared flow (the e2e delivery), and should not hold several connection permits.
    let mut by_category: BTreeMap<Category, Vec<IndexedCheck>> = BTreeMap::new();
    for (index, selected) in config.checks.iter().enumerate() {
        let (roles, stage) = match selected.check.info().scope {
            Scope::Endpoints { roles, stage } => (roles, stage),
            Scope::Target => {
                let category = selected.check.info().category;
                by_category
                    .entry(category)
                    .or_default()
                    .push((index, *selected));
                continue;
            }
        };
        for (host, ip) in resolved.host_addresses() {
            for &role in roles {
                let endpoint = Endpoint {
                    ip,
                    port: config.port(role),
                    role,
                    host: host.clone(),
                };
                let state = states.entry(endpoint.clone()).or_default().clone();
                let endpoint = Arc::new(endpoint);
                if stage == Stage::Own {
                    groups.push(Group {
                        endpoint: Some(endpoint),
                        stage,
                        state,
                        checks: vec![(index, *selected)],
                    });
                } else {
                    shared
                        .entry((endpoint, stage))
                        .or_default()
                        .push((index, *selected));
                }
            }
        }
    }
    for checks in by_category.into_values() {
        groups.push(Group {
            endpoint: None,
            stage: Stage::Own,
            state: Arc::new(EndpointState::default()),
            checks,
        });
    }
    for ((endpoint, stage), checks) in shared {
        let state = states[&*endpoint].clone();
        groups.push(Group {
            endpoint: Some(endpoint),
            stage,
            state,
            checks,
        });
    }
    groups
}

async fn run_group(
    group: Group,
    target: &TargetInfo,
    memo: &TargetMemo,
    permits: &Semaphore,
    config: &RunConfig,
    sink: &Sink,
    logins: Option<&LoginPlan>,
) {
    let mut slot = SessionSlot::default();
    for (index, selected) in &group.checks {
        // A login probe waits for its turn on the server before its budget starts.
        let turn = match logins {
            Some(plan) => plan.turn(selected.check.logins()).await,
            None => None,
        };
        let started = Instant::now();
        let before = slot
            .session
            .as_ref()
            .and_then(|s| s.as_ref().ok())
            .map(Session::mark);
        let mut ctx = Ctx {
            endpoint: group.endpoint.as_deref(),
            stage: group.stage,
            target,
            settings: &config.settings,
            net: &config.net,
            dns: &config.dns,
            ports: &config.ports,
            state: &group.state,
            memo,
            permits: Some(permits),
            slot: (group.stage != Stage::Own).then_some(&mut slot),
        };
        let budget = config.check_budget();
        let verdict = match tokio::time::timeout(budget, selected.check.run(&mut ctx)).await {
            Ok(verdict) => verdict,
            Err(_) => {
                // The session may be mid-dialog: drop it so the next check starts clean.
                slot.session = None;
                Verdict::error(format!(
                    "the check did not finish within {} s",
                    budget.as_secs()
                ))
            }
        };
        drop(turn);
        if verdict.omitted {
            lock(&sink.omitted).push((*index, group.endpoint.clone()));
            tidy(&mut slot, before).await;
            continue;
        }
        let label = group
            .endpoint
            .as_ref()
            .map(|e| e.label(group.stage))
            .or(verdict.endpoint);
        let mut verdict = verdict;
        let if_host_silent = verdict
            .if_host_silent
            .take()
            .map(|silent| to_result(*selected, label, *silent, started));
        lock(&sink.results).push(Finished {
            index: *index,
            endpoint: group.endpoint.clone(),
            result: to_result(*selected, label, verdict, started),
            if_host_silent,
        });
        tidy(&mut slot, before).await;
    }
    if let Some(Ok(session)) = slot.session.take() {
        session.client.quit().await;
    }
}

/// After a check talked on the shared session, reset the transaction; a session that does not
/// answer RSET is dropped so the next check opens a new one.
async fn tidy(slot: &mut SessionSlot, before: Option<crate::probe::transcript::Mark>) {
    let Some(Ok(session)) = slot.session.as_mut() else {
        return;
    };
    let baseline = before.unwrap_or_else(|| session.opening_mark());
    if session.mark() != baseline && !session.reset().await {
        slot.session = None;
    }
}

pub(crate) fn to_result(
    selected: SelectedCheck,
    endpoint: Option<crate::outcome::Endpoint>,
    verdict: Verdict,
    started: Instant,
) -> CheckResult {
    let info = selected.check.info();
    let fix = match verdict.status {
        Status::Pass | Status::Skip => None,
        Status::Fail | Status::Warn => {
            Some(verdict.fix.map_or_else(|| Fix::catalog(info.fix), Fix::own))
        }
        Status::Error => verdict.fix.map(Fix::own),
    };
    CheckResult {
        id: info.id.into(),
        title: info.title.into(),
        category: info.category,
        severity: selected.severity,
        endpoint,
        status: verdict.status,
        message: verdict.message,
        evidence: verdict.evidence,
        fix,
        duration_ms: millis(started.elapsed()),
    }
}

/// A target that was not checked at all (a bad roster row): every selected check is an `error`
/// saying why, so the target shows, graded zero, in every report.
pub fn unchecked(
    input: &str,
    checks: &[SelectedCheck],
    message: &str,
    evidence: &[String],
) -> TargetReport {
    let results = checks
        .iter()
        .map(|selected| {
            let verdict = Verdict::error(message.to_string()).with_evidence(evidence.to_vec());
            to_result(*selected, None, verdict, Instant::now())
        })
        .collect();
    TargetReport::new(input.to_string(), None, Vec::new(), results)
}

/// When the target cannot be resolved (or takes no mail), each check says so once; after a
/// null MX, the target-scoped (DNS) checks run instead.
fn unresolved_results(
    resolved: &ResolvedTarget,
    problem: &str,
    config: &RunConfig,
) -> Vec<(usize, Option<Arc<Endpoint>>, CheckResult)> {
    let status = if resolved.null_mx {
        Status::Skip
    } else {
        Status::Error
    };
    config
        .checks
        .iter()
        .enumerate()
        .filter(|(_, selected)| !resolved.null_mx || selected.check.info().scope != Scope::Target)
        .map(|(index, selected)| {
            let verdict =
                Verdict::new(status, problem.to_string()).with_evidence(resolved.evidence.clone());
            (
                index,
                None,
                to_result(*selected, None, verdict, Instant::now()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! The runner's promises over in-process fakes on 127.0.100.211-215: a dead endpoint is
    //! contacted once, a target never has more than `concurrency` connections open, and a
    //! check that overruns its budget ends as `error`.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;
    use crate::check::{Check, CheckInfo};
    use crate::outcome::Severity;
    use crate::probe::conn::Conn;
    use crate::probe::dns::fixture::Fixture;

    fn info(id: &'static str, stage: Stage) -> CheckInfo {
        CheckInfo {
            id,
            title: "runner test",
            category: Category::Smtp,
            severity: Severity::Low,
            scope: Scope::Endpoints {
                roles: &[Role::Mx],
                stage,
            },
            what: "",
            why: "",
            fix: "",
            opt_in: false,
            title_fr: None,
            fix_fr: None,
        }
    }

    /// Opens an SMTP session through the gate (its own connection) and passes if it opened.
    struct Opens(&'static CheckInfo);

    #[async_trait::async_trait]
    impl Check for Opens {
        fn info(&self) -> &'static CheckInfo {
            self.0
        }

        async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
            match ctx.open(&ctx.open_options()).await {
                Ok(_) => Verdict::pass("opened"),
                Err(failure) => ctx.unavailable(&failure),
            }
        }
    }

    /// Holds one raw connection open for a while, through the gate, counting the connections
    /// held at once on the client side: the fake's own count lags behind each close (it sees
    /// the end of a stream a moment after the runner has handed the permit on).
    struct Holds(&'static CheckInfo);

    static HELD: AtomicUsize = AtomicUsize::new(0);
    static MOST_HELD: AtomicUsize = AtomicUsize::new(0);

    #[async_trait::async_trait]
    impl Check for Holds {
        fn info(&self) -> &'static CheckInfo {
            self.0
        }

        async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
            let addr = ctx.endpoint().addr();
            let opened = ctx.gate(Conn::open(addr, None, ctx.net)).await;
            match opened {
                Ok(conn) => {
                    let now = HELD.fetch_add(1, Ordering::SeqCst) + 1;
                    MOST_HELD.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    HELD.fetch_sub(1, Ordering::SeqCst);
                    conn.close().await;
                    Verdict::pass("held")
                }
                Err(failure) => ctx.unavailable(&failure),
            }
        }
    }

    /// Never finishes on its own.
    struct Sleeps(&'static CheckInfo);

    #[async_trait::async_trait]
    impl Check for Sleeps {
        fn info(&self) -> &'static CheckInfo {
            self.0
        }

        async fn run(&self, _ctx: &mut Ctx<'_>) -> Verdict {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Verdict::pass("woke up")
        }
    }

    /// Passes at once, without a connection.
    struct Quick(&'static CheckInfo);

    #[async_trait::async_trait]
    impl Check for Quick {
        fn info(&self) -> &'static CheckInfo {
            self.0
        }

        async fn run(&self, _ctx: &mut Ctx<'_>) -> Verdict {
            Verdict::pass("done")
        }
    }

    fn leak<T>(value: T) -> &'static T {
        Box::leak(Box::new(value))
    }

    fn config(checks: Vec<&'static dyn Check>, port: u16, concurrency: usize) -> RunConfig {
        let mut settings = Settings::default();
        settings.smtp.retry_pause = Duration::ZERO;
        RunConfig {
            checks: checks
                .into_iter()
                .map(|check| SelectedCheck {
                    check,
                    severity: Severity::Low,
                })
                .collect(),
            settings,
            net: NetOptions {
                timeout: Duration::from_millis(300),
                bind: Vec::new(),
            },
            // No look-up leaves the process: the domain is given, the fixture answers nothing.
            dns: Fixture::new().dns(),
            ports: BTreeMap::from([(Role::Mx, port)]),
            concurrency,
            parallel_targets: 1,
            domain: Some("example.test".into()),
            target_budget: Duration::from_secs(60),
        }
    }

    /// A fake that accepts, counts connections (in total and at once) and never says a word.
    async fn silent_fake(ip: &str) -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind the fake");
        let port = listener.local_addr().unwrap().port();
        let total = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let (t, m) = (total.clone(), most.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                t.fetch_add(1, Ordering::SeqCst);
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let open = open.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 256];
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        (port, total, most)
    }

    fn checks<C: Check>(
        make: fn(&'static CheckInfo) -> C,
        stage: Stage,
    ) -> Vec<&'static dyn Check> {
        ["t.one", "t.two", "t.three", "t.four", "t.five", "t.six"]
            .into_iter()
            .map(|id| leak(make(leak(info(id, stage)))) as &'static dyn Check)
            .collect()
    }

    #[tokio::test]
    async fn a_silent_endpoint_is_contacted_once_for_all_checks() {
        let (port, total, _) = silent_fake("127.0.100.211").await;
        let config = config(checks(Opens, Stage::Own), port, 4);
        let started = Instant::now();
        let report = run(&["127.0.100.211".into()], &config).await;
        let results = &report.targets[0].results;
        assert_eq!(results.len(), 6);
        for result in results {
            assert_eq!(result.status, Status::Error, "{result:?}");
            assert!(result.message.contains("no greeting"), "{}", result.message);
        }
        assert_eq!(
            total.load(Ordering::SeqCst),
            1,
            "one contact for six checks"
        );
        // One greeting timeout (300 ms), not six.
        assert!(started.elapsed() < Duration::from_millis(1500));
    }

    #[tokio::test]
    async fn a_target_never_has_more_than_concurrency_connections_open() {
        for (ip, concurrency) in [("127.0.100.212", 2), ("127.0.100.213", 4)] {
            let (port, total, _) = silent_fake(ip).await;
            MOST_HELD.store(0, Ordering::SeqCst);
            let config = config(checks(Holds, Stage::Own), port, concurrency);
            let report = run(&[ip.to_string()], &config).await;
            assert!(
                report.targets[0]
                    .results
                    .iter()
                    .all(|r| r.status == Status::Pass),
                "{:?}",
                report.targets[0].results
            );
            assert_eq!(
                total.load(Ordering::SeqCst),
                6,
                "the fake saw every connection"
            );
            let most = MOST_HELD.load(Ordering::SeqCst);
            assert!(
                most <= concurrency,
                "{most} open at once, bound {concurrency}"
            );
            // The bound is what limits: with more permits, more run at once.
            assert!(most >= concurrency.min(3), "{most} open at once");
        }
    }

    #[tokio::test]
    async fn a_check_that_overruns_its_budget_is_an_error() {
        let (port, _, _) = silent_fake("127.0.100.214").await;
        let config = config(
            vec![leak(Sleeps(leak(info("t.sleeps", Stage::Own))))],
            port,
            2,
        );
        let budget = config.check_budget();
        let started = Instant::now();
        let report = run(&["127.0.100.214".into()], &config).await;
        let result = &report.targets[0].results[0];
        assert_eq!(result.status, Status::Error);
        assert!(
            result.message.contains("did not finish"),
            "{}",
            result.message
        );
        assert!(started.elapsed() < budget + Duration::from_secs(1));
    }

    #[tokio::test]
    async fn what_has_not_finished_when_the_target_budget_runs_out_is_an_error() {
        // Nothing listens on 127.0.100.215: neither check connects.
        let mut config = config(
            vec![
                leak(Quick(leak(info("t.quick", Stage::Own)))),
                leak(Sleeps(leak(info("t.slow", Stage::Own)))),
            ],
            25,
            2,
        );
        config.target_budget = Duration::from_millis(500);
        // The per-check budget would let the sleeper run much longer: the target's cuts it.
        assert!(config.check_budget() > Duration::from_secs(2));
        let started = Instant::now();
        let report = run(&["127.0.100.215".into()], &config).await;
        let elapsed = started.elapsed();
        let target = &report.targets[0];
        assert_eq!(target.budget_ms, Some(500));
        let by_id = |id: &str| target.results.iter().find(|r| r.id == id).unwrap();
        assert_eq!(by_id("t.quick").status, Status::Pass);
        let slow = by_id("t.slow");
        assert_eq!(slow.status, Status::Error);
        assert!(
            slow.message.contains("target budget exhausted"),
            "{}",
            slow.message
        );
        assert_eq!(
            slow.endpoint.map(|e| e.to_string()).as_deref(),
            Some("127.0.100.215:25/smtp")
        );
        assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    }

    /// Records its id when done, after a pause; declares the logins it would send.
    struct Records(&'static CheckInfo, Logins, Duration);

    static DONE: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

    #[async_trait::async_trait]
    impl Check for Records {
        fn info(&self) -> &'static CheckInfo {
            self.0
        }

        fn logins(&self) -> Logins {
            self.1
        }

        async fn run(&self, _ctx: &mut Ctx<'_>) -> Verdict {
            tokio::time::sleep(self.2).await;
            DONE.lock().unwrap().push(self.0.id);
            Verdict::pass("done")
        }
    }

    #[tokio::test]
    async fn made_up_logins_wait_for_the_real_ones_on_the_same_server() {
        // Neither check connects (nothing listens on 127.0.100.215). The made-up probe comes
        // first in the catalog and would be done at once; the real login takes 200 ms.
        let made_up = leak(Records(
            leak(info("t.made-up", Stage::Own)),
            Logins::MadeUp,
            Duration::ZERO,
        ));
        let real = leak(Records(
            leak(info("t.real", Stage::Own)),
            Logins::Real,
            Duration::from_millis(200),
        ));
        let mut config = config(vec![made_up, real], 25, 4);
        config.settings.credentials = Some(crate::check::Credentials::new(
            "test@example.test".into(),
            "secret".into(),
        ));
        let report = run(&["127.0.100.215".into()], &config).await;
        assert!(
            report.targets[0]
                .results
                .iter()
                .all(|r| r.status == Status::Pass),
            "{:?}",
            report.targets[0].results
        );
        // (Other tests record their own ids in DONE too.)
        let done = || -> Vec<&str> {
            let mut done = DONE.lock().unwrap();
            let mine = done
                .iter()
                .copied()
                .filter(|id| ["t.real", "t.made-up"].contains(id))
                .collect();
            done.clear();
            mine
        };
        assert_eq!(done(), ["t.real", "t.made-up"]);
        // Without credentials the real login is no login: nothing waits for it.
        config.settings.credentials = None;
        run(&["127.0.100.215".into()], &config).await;
        assert_eq!(done(), ["t.made-up", "t.real"]);
    }

    #[tokio::test]
    async fn another_targets_real_login_holds_a_made_up_probe_back_only_for_a_while() {
        // Another target on the same server planned a real login that never ends.
        let ip: std::net::IpAddr = "127.0.100.224".parse().unwrap();
        let stuck = LoginPlan::new(login_lane(ip), 1, Duration::from_secs(60));
        let made_up = leak(Records(
            leak(info("t.made-up-alone", Stage::Own)),
            Logins::MadeUp,
            Duration::ZERO,
        ));
        let config = config(vec![made_up], 25, 2);
        let started = Instant::now();
        let report = run(&["127.0.100.224".into()], &config).await;
        let waited = started.elapsed();
        assert_eq!(report.targets[0].results[0].status, Status::Pass);
        // Two timeouts (2 x 300 ms), not the other target's whole run.
        assert!(
            waited >= Duration::from_millis(550) && waited < Duration::from_secs(2),
            "waited {waited:?}"
        );
        drop(stuck);
        assert_eq!(*login_lane(ip).real_pending.borrow(), 0);
    }
}
