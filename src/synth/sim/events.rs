//! Every activation event the simulation writes, spelled as Windows spells it: the client's
//! 8198 (failed before sending), 12288 (request sent) and 12289 (answer), the host's 12290
//! (request received, KMS log) and 12293/12294 (DNS publishing), and 8209/12305 (genuine
//! state). The field orders and clock formats live here; when and why an event happens is
//! decided by the phases that call these.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

use super::facts::{WINDOWS_APP_ID, codes};
use super::machine::{License, Log, SimEvent, SimMachine};

/// The client time as written inside 12288/12289: `yyyy/MM/dd HH:mm`, the client's local clock.
fn client_time(t: DateTime<Utc>, offset: i32) -> String {
    let l = t + Duration::minutes(i64::from(offset));
    l.format("%Y/%m/%d %H:%M").to_string()
}

/// The same clock as the host writes it in 12290: no zero padding (`2010/9/29 21:46`).
fn host_client_time(t: DateTime<Utc>, offset: i32) -> String {
    let l = t + Duration::minutes(i64::from(offset));
    format!(
        "{}/{}/{} {}:{:02}",
        l.year(),
        l.month(),
        l.day(),
        l.hour(),
        l.minute()
    )
}

fn hex(code: u32) -> String {
    format!("0x{code:08X}")
}

/// Minutes from `t` to `end`, never negative.
fn minutes_until(t: DateTime<Utc>, end: Option<DateTime<Utc>>) -> i64 {
    end.map_or(0, |e| (e - t).num_minutes().max(0))
}

/// 8198 at `clock`: the activation failed on the client with `code`, nothing was sent.
pub(super) fn local_failure(m: &SimMachine, clock: DateTime<Utc>, code: u32) -> SimEvent {
    SimEvent {
        time: clock,
        log: Log::Application,
        event_id: 8198,
        data: vec![
            format!("hr={}", hex(code)),
            format!(
                "RuleId=31e71c49-8da7-4a2f-ad92-45d98a1c79ba;Action=AutoActivate;AppId={WINDOWS_APP_ID};SkuId={};NotificationInterval=1440;Trigger=TimerEvent",
                m.activation_id
            ),
        ],
    }
}

/// What a client's request says about it: the fields its 12288 and the host's 12290 share.
pub(super) struct Request {
    /// The host it is sent to, `name:port`.
    server: String,
    cmid: String,
    vm: bool,
    n_policy: usize,
    activation_id: &'static str,
    utc_offset: i32,
    /// The license status and the minutes left in it when the request was sent.
    status: u8,
    minutes_left: i64,
    /// When it was sent, by the client's clock.
    clock: DateTime<Utc>,
}

impl Request {
    /// `m`'s request to `server` at true time `t` (`clock` on its own clock), while `license`.
    pub(super) fn new(
        m: &SimMachine,
        server: String,
        license: License,
        t: DateTime<Utc>,
        clock: DateTime<Utc>,
    ) -> Self {
        Request {
            server,
            cmid: m.cmid.clone(),
            vm: m.vm,
            n_policy: m.n_policy(),
            activation_id: m.activation_id,
            utc_offset: m.utc_offset,
            status: license.status,
            minutes_left: minutes_until(t, license.ends),
            clock,
        }
    }

    pub(super) fn cmid(&self) -> &str {
        &self.cmid
    }

    pub(super) fn n_policy(&self) -> usize {
        self.n_policy
    }

    /// 12288, the request as the client logs it, with result `hr`.
    pub(super) fn sent(&self, hr: u32) -> SimEvent {
        let Request {
            server,
            cmid,
            n_policy,
            activation_id,
            status,
            minutes_left,
            ..
        } = self;
        SimEvent {
            time: self.clock,
            log: Log::Application,
            event_id: 12288,
            data: vec![format!(
                "{}, 0x00000000, {server}, {cmid}, {}, {}, {status}, {minutes_left}, {activation_id}, {n_policy}",
                hex(hr),
                client_time(self.clock, self.utc_offset),
                u8::from(self.vm)
            )],
        }
    }

    /// 12290 at true time `t` in the host's KMS log: it received the request from `fqdn` and
    /// answered `code`.
    pub(super) fn received(&self, t: DateTime<Utc>, fqdn: &str, code: u32) -> SimEvent {
        let Request {
            cmid,
            n_policy,
            activation_id,
            status,
            minutes_left,
            ..
        } = self;
        SimEvent {
            time: t,
            log: Log::KeyManagementService,
            event_id: 12290,
            data: vec![format!(
                "{},{n_policy},{fqdn},{cmid},{},{},{status},{minutes_left},{activation_id}",
                hex(code),
                host_client_time(self.clock, self.utc_offset),
                u8::from(self.vm)
            )],
        }
    }

    /// 12289, a second after the request: the host's answer `code` with its `count`, and the
    /// intervals the client goes on with.
    pub(super) fn answer(
        &self,
        code: u32,
        count: usize,
        activation_interval: u32,
        renewal_interval: u32,
    ) -> SimEvent {
        let activated = code == codes::OK;
        let flags: u32 = if code == codes::NOT_ENOUGH_COUNT {
            0x0400_0000
        } else {
            0
        };
        let answered = self.clock + Duration::seconds(1);
        SimEvent {
            time: answered,
            log: Log::Application,
            event_id: 12289,
            data: vec![format!(
                "{}, 0x{flags:08X}, {}, 0, {count}, {activation_interval}, {renewal_interval}, {}",
                hex(code),
                u8::from(activated),
                client_time(answered, self.utc_offset)
            )],
        }
    }
}

/// 12294: the host published its SRV record in `domain`.
pub(super) fn dns_published(t: DateTime<Utc>, domain: &str) -> SimEvent {
    SimEvent {
        time: t,
        log: Log::Application,
        event_id: 12294,
        data: vec![domain.to_owned()],
    }
}

/// 12293: publishing in `domain` failed with `code` (as the scenario spells it).
pub(super) fn dns_publish_failed(t: DateTime<Utc>, code: &str, domain: &str) -> SimEvent {
    SimEvent {
        time: t,
        log: Log::Application,
        event_id: 12293,
        data: vec![code.to_owned(), domain.to_owned()],
    }
}

/// 8209: the genuine check failed with `code`.
pub(super) fn not_genuine(time: DateTime<Utc>, code: u32) -> SimEvent {
    SimEvent {
        time,
        log: Log::Application,
        event_id: 8209,
        data: vec![hex(code), WINDOWS_APP_ID.to_owned()],
    }
}

/// 12305: the genuine state is good again.
pub(super) fn genuine_again(time: DateTime<Utc>) -> SimEvent {
    SimEvent {
        time,
        log: Log::Application,
        event_id: 12305,
        data: vec![WINDOWS_APP_ID.to_owned()],
    }
}
