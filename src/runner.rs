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
    Ctx, Endpoint, EndpointState, Role, Scope, SessionSlot, Settings, Stage, TargetInfo,
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
}

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

/// Told about each target as soon as its checks are done, in completion order (progress
/// displays). Called on a runtime thread: it must not block.
pub type OnTargetDone<'a> = &'a (dyn Fn(&TargetReport) + Send + Sync);

/// Runs `jobs`, `parallel_targets` at a time (each still bounded by its own configuration's
/// connection limit); the report lists them in the order given.
pub async fn run_jobs(
    jobs: &[Job<'_>],
    parallel_targets: usize,
    on_target_done: Option<OnTargetDone<'_>>,
) -> Report {
    let started_at = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    let gate = Semaphore::new(parallel_targets.max(1));
    let reports = join_all(jobs.iter().map(|job| async {
        let _permit = gate.acquire().await.expect("semaphore never closed");
        let target_started = Instant::now();
        let mut report = run_target(&job.input, job.domain.as_deref(), job.config).await;
        report.duration_ms = Some(millis(target_started.elapsed()));
        report.name.clone_from(&job.name);
        if let Some(hook) = on_target_done {
            hook(&report);
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

async fn run_target(input: &str, domain: Option<&str>, config: &RunConfig) -> TargetReport {
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
    let groups = first_contacts_first(plan(&resolved, config))
        .into_iter()
        .filter(|group| {
            resolved.problem.is_none() || (resolved.null_mx && group.endpoint.is_none())
        });
    let semaphore = Semaphore::new(config.concurrency.max(1));
    let memo = TargetMemo::default();
    let runs = groups.into_iter().map(|group| {
        let (semaphore, target, memo) = (&semaphore, &target, &memo);
        async move {
            let _permit = semaphore.acquire().await.expect("semaphore never closed");
            run_group(group, target, memo, semaphore, config).await
        }
    });
    let mut results: Vec<(usize, Option<Arc<Endpoint>>, CheckResult)> =
        join_all(runs).await.into_iter().flatten().collect();
    results.extend(unresolved);
    results.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let results = results.into_iter().map(|(_, _, result)| result).collect();
    TargetReport::new(input.to_string(), resolved.domain, addresses, results)
}

/// Orders the groups so that every endpoint's first group comes before any endpoint's second
/// one (the runner's semaphore is fair, so they also start in that order). Dead or tarpitting
/// endpoints are then found out together, `concurrency` at a time, in about
/// endpoints / concurrency timeouts; every later group on them fails at once through the gate.
/// Results do not depend on the order: they are sorted afterwards.
fn first_contacts_first(groups: Vec<Group>) -> Vec<Group> {
    let mut seen: BTreeMap<Endpoint, usize> = BTreeMap::new();
    let mut ranked: Vec<(usize, usize, Group)> = groups
        .into_iter()
        .enumerate()
        .map(|(index, group)| {
            let rank = group.endpoint.as_ref().map_or(0, |endpoint| {
                let count = seen.entry((**endpoint).clone()).or_insert(0);
                *count += 1;
                *count - 1
            });
            (rank, index, group)
        })
        .collect();
    ranked.sort_by_key(|(rank, index, _)| (*rank, *index));
    ranked.into_iter().map(|(_, _, group)| group).collect()
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
) -> Vec<(usize, Option<Arc<Endpoint>>, CheckResult)> {
    let mut slot = SessionSlot::default();
    let mut results = Vec::with_capacity(group.checks.len());
    for (index, selected) in &group.checks {
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
        if verdict.omitted {
            tidy(&mut slot, before).await;
            continue;
        }
        let label = group
            .endpoint
            .as_ref()
            .map(|e| e.label(group.stage))
            .or(verdict.endpoint);
        results.push((
            *index,
            group.endpoint.clone(),
            to_result(*selected, label, verdict, started),
        ));
        tidy(&mut slot, before).await;
    }
    if let Some(Ok(session)) = slot.session.take() {
        session.client.quit().await;
    }
    results
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
}
