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
    Check, Ctx, Endpoint, EndpointState, Role, Scope, SessionSlot, Settings, Stage, TargetInfo,
    TargetMemo, Verdict,
};
use crate::outcome::{Category, CheckResult, Report, Severity, Status, TargetReport, Tool, millis};
use crate::probe::dns::Dns;
use crate::probe::net::NetOptions;
use crate::probe::smtp::Session;
use crate::target::{ResolvedTarget, resolve};

/// A check chosen for the run, with the scenario's severity for it.
#[derive(Clone, Copy)]
pub struct SelectedCheck {
    pub check: &'static dyn Check,
    pub severity: Severity,
}

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
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let started = Instant::now();
    let gate = Semaphore::new(parallel_targets.max(1));
    let reports = join_all(jobs.iter().map(|job| async {
        let _permit = gate.acquire().await.expect("semaphore never closed");
        let mut report = run_target(&job.input, job.domain.as_deref(), job.config).await;
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
            run_group(group, target, memo, config).await
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
            .or_else(|| verdict.endpoint.clone());
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
    endpoint: Option<String>,
    verdict: Verdict,
    started: Instant,
) -> CheckResult {
    let info = selected.check.info();
    let fix = match verdict.status {
        Status::Pass | Status::Skip => None,
        Status::Fail | Status::Warn => Some(verdict.fix.unwrap_or_else(|| info.fix.to_string())),
        Status::Error => verdict.fix,
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
