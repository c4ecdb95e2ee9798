#!/usr/bin/env python3
"""A large SIEM export for the streaming benchmark: a fleet's Application log events as an
unfiltered export would hold them, mostly other providers' noise, with the activation events
among them (KMS clients' 12288/12289 every renewal, some failing with 0xC004F074, 8198s).

Two shapes, each built from the field lists of the repository's fixtures
(testdata/events/siem/elastic-ecs.ndjson, testdata/events/siem/sentinel-event.csv):
  ecs      Elastic/winlogbeat ECS documents, one JSON object a line (NDJSON)
  sentinel the Sentinel / Log Analytics portal's CSV of `Event` rows (quoted cells, XML in
           EventData, multi-line RenderedDescription)

Usage: siem_corpus.py ecs|sentinel OUT --mb 1024 [--machines 2000] [--seed 1] [--activation 0.01]
Deterministic for a seed. Prints the records written and how many are activation events.
"""

import argparse
import csv
import datetime as dt
import json
import random
import sys

SPP = "Microsoft-Windows-Security-SPP"
SPP_GUID = "{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}"
SKU = "73111121-5638-40f6-bc11-f1d7b0d64300"
APP = "55c92734-d682-4d71-983e-d6ec3f16059f"

# (provider, event id, level, message template) of common Application-log noise.
NOISE = [
    ("Microsoft-Windows-Security-SPP-UX-Notifications", 1, 4, "The Software Protection notification service ran."),
    ("Microsoft-Windows-RestartManager", 10000, 4, "Starting session {n} - {t}."),
    ("Microsoft-Windows-RestartManager", 10001, 4, "Ending session {n} started {t}."),
    ("MsiInstaller", 1035, 4, "Windows Installer reconfigured the product. Product Name: Contoso Agent. Product Version: 5.{n}. Product Language: 1033. Manufacturer: Contoso. Reconfiguration success or error status: 0."),
    ("Microsoft-Windows-Winlogon", 6000, 4, "The winlogon notification subscriber <SessionEnv> was unavailable to handle a notification event."),
    ("Microsoft-Windows-Winlogon", 4101, 4, "Windows license validated."),
    ("ESENT", 326, 4, "svchost ({n},D,50) SRUJet: The database engine attached a database (1, C:\\WINDOWS\\system32\\SRU\\SRUDB.dat). (Time=0 seconds)"),
    ("Application Error", 1000, 2, "Faulting application name: contoso.exe, version: 1.2.{n}.0, time stamp: 0x5f3c2a1b\nFaulting module name: ntdll.dll, version: 10.0.19041.1, time stamp: 0x7a8b9c0d\nException code: 0xc0000005\nFault offset: 0x000000000009d{n}"),
    ("Microsoft-Windows-User Profiles Service", 1531, 4, "The User Profile Service has started successfully."),
    ("VSS", 8224, 4, "The VSS service is shutting down due to idle timeout."),
    ("SecurityCenter", 15, 4, "Updated Windows Defender status successfully to SECURITY_PRODUCT_STATE_ON."),
    ("Microsoft-Windows-Defrag", 258, 4, "The storage optimizer successfully completed retrim on (C:)"),
    ("edgeupdate", 0, 4, "Service started"),
    ("Microsoft-Windows-WMI", 5605, 3, "The root\\cimv2\\TerminalServices namespace is marked with the RequiresEncryption flag. Access to this namespace might be denied if the script or application does not have the appropriate authentication level."),
    # The activation provider's own events that kmsdiag does not correlate.
    (SPP, 16384, 4, "Successfully scheduled Software Protection service for re-start at 2126-01-01T00:00:00Z. Reason: RulesEngine."),
    (SPP, 16394, 4, "Offline downlevel migration succeeded."),
    (SPP, 1033, 4, "The Software Protection service has stopped."),
]


def activation(rng, host, t):
    """One activation event: (id, level, qualifiers, data strings, message)."""
    cmid = f"{rng.getrandbits(32):08x}-3d4a-4b8e-9c7f-2a1e5d6b8c90"
    stamp = t.strftime("%Y/%m/%d %H:%M")
    kind = rng.random()
    if kind < 0.45:
        hr = "0xC004F074" if rng.random() < 0.2 else "0x0"
        data = [f"{hr}, 0x00000000, kms01.contoso.com:1688, {cmid}, {stamp}, 0, 2, 43200, {SKU}, 25"]
        return 12288, 4, 16384, data, "The client has sent an activation request to the key management service machine.\nInfo:\n" + data[0]
    if kind < 0.9:
        data = [f"0x0, 0x0, 1, 0, 32, 120, 10080, {stamp}"]
        return 12289, 4, 16384, data, "The client has processed an activation response from the key management service machine.\nInfo:\n" + data[0]
    data = ["0xC004F074", f"RuleId=31e71c49-8da7-4a2f-ad92-45d98a1c79ba;Action=AutoActivate;AppId={APP};SkuId={SKU};NotificationInterval=1440;Trigger=TimerEvent"]
    return 8198, 2, 49152, data, f"License Activation (slui.exe) failed with the following error code:\nhr={data[0]}\nCommand-line arguments:\n{data[1]}"


def records(rng, machines, share):
    """Endless (time, host, provider, id, level, qualifiers, data, message, record id)."""
    t = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
    record = 1000
    while True:
        t += dt.timedelta(milliseconds=rng.randint(1, 400))
        record += 1
        host = f"WS{rng.randrange(machines):05d}.contoso.com"
        if rng.random() < share:
            eid, level, qual, data, msg = activation(rng, host, t)
            yield t, host, SPP, eid, level, qual, data, msg, record
        else:
            provider, eid, level, tmpl = NOISE[rng.randrange(len(NOISE))]
            n = rng.randrange(100000)
            msg = tmpl.format(n=n, t=t.isoformat())
            yield t, host, provider, eid, level, 0, [msg.split("\n")[0]], msg, record


def ecs(r):
    t, host, provider, eid, level, qual, data, msg, record = r
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    doc = {
        "@timestamp": stamp,
        "agent": {"type": "winlogbeat", "version": "8.15.0", "name": host.split(".")[0].lower()},
        "ecs": {"version": "8.0.0"},
        "event": {"code": str(eid), "kind": "event", "provider": provider, "created": stamp, "module": "windows"},
        "host": {"name": host.split(".")[0].lower(), "os": {"family": "windows", "version": "10.0"}},
        "log": {"level": ["", "critical", "error", "warning", "information"][level]},
        "message": msg,
        "winlog": {
            "channel": "Application",
            "computer_name": host,
            "event_id": str(eid),
            "provider_name": provider,
            "record_id": str(record),
            "keywords": ["Classic"],
            "api": "wineventlog",
            "event_data": {f"param{i + 1}": d for i, d in enumerate(data)},
        },
    }
    if provider == SPP:
        doc["winlog"]["provider_guid"] = SPP_GUID
    return json.dumps(doc, ensure_ascii=False) + "\n"


SENTINEL_COLUMNS = ["TenantId", "SourceSystem", "TimeGenerated [UTC]", "Source", "EventLog", "Computer",
                    "EventLevel", "EventLevelName", "ParameterXml", "EventData", "EventID",
                    "RenderedDescription", "Type"]


def sentinel(r, writer, sink):
    t, host, provider, eid, level, qual, data, msg, record = r
    stamp = f"{t.month}/{t.day}/{t.year}, {t.hour % 12 or 12}:{t.minute:02d}:{t.second:02d}.{t.microsecond // 1000:03d} {'AM' if t.hour < 12 else 'PM'}"
    params = "".join(f"<Param>{d}</Param>" for d in data)
    items = "".join(f"<Data>{d}</Data>" for d in data)
    event_data = (f'<DataItem type="System.XmlData" time="{t.isoformat()}"><EventData '
                  f'xmlns="http://schemas.microsoft.com/win/2004/08/events/event">{items}</EventData></DataItem>')
    writer.writerow(["00000000-0000-0000-0000-000000000000", "OpsManager", stamp, provider, "Application",
                     host, level, ["", "Critical", "Error", "Warning", "Information"][level], params,
                     event_data, eid, msg, "Event"])
    return sink.take()


class Sink:
    """Collects what csv.writer writes, to count bytes."""

    def __init__(self):
        self.parts = []

    def write(self, s):
        self.parts.append(s)

    def take(self):
        s = "".join(self.parts)
        self.parts = []
        return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape", choices=["ecs", "sentinel"])
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=1024)
    ap.add_argument("--machines", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--activation", type=float, default=0.01, help="share of activation events")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    limit = int(a.mb * 1024 * 1024)
    written = 0
    count = 0
    kept = 0
    sink = Sink()
    writer = csv.writer(sink, lineterminator="\r\n")
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        if a.shape == "sentinel":
            writer.writerow(SENTINEL_COLUMNS)
            head = sink.take()
            f.write(head)
            written += len(head.encode())
        buf = []
        for r in records(rng, a.machines, a.activation):
            s = ecs(r) if a.shape == "ecs" else sentinel(r, writer, sink)
            buf.append(s)
            written += len(s.encode())
            count += 1
            kept += r[2] == SPP and r[3] in (12288, 12289, 8198)
            if len(buf) >= 4096:
                f.write("".join(buf))
                buf = []
            if written >= limit:
                break
        f.write("".join(buf))
    print(f"{a.out}: {written / 1048576:.1f} MB, {count} records, {kept} activation events", file=sys.stderr)


if __name__ == "__main__":
    main()
