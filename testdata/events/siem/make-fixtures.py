#!/usr/bin/env python3
"""Writes the SIEM / shipper fixtures of this folder: the same five events (a KMS client's failed
12288 with 0xC004F074, the 8198 slui failure that follows it, a 16384 restart schedule, a 1003
licensing check with an empty last value, and a Service Control Manager 7036 that is not an
activation event) in each export shape, laid out after the field list of the vendor page named
in rules/fields.toml and testdata/README.md. Run from the repository root:
python3 testdata/events/siem/make-fixtures.py
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NS = "http://schemas.microsoft.com/win/2004/08/events/event"
SPP = "Microsoft-Windows-Security-SPP"
SPP_GUID = "{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}"
SPP_SOURCE = "Software Protection Platform Service"
HOST = "PC01.contoso.com"
INFO_12288 = ("0xC004F074, 0x00000000, kms01.contoso.com:1688, 36f27b39-2fd5-440b-be67-a09996d27a38, "
              "2025/07/01 06:45, 0, 2, 43200, 73111121-5638-40f6-bc11-f1d7b0d64300, 25")
CMD_8198 = ("RuleId=31e71c49-8da7-4a2f-ad92-45d98a1c79ba;Action=AutoActivate;"
            "AppId=55c92734-d682-4d71-983e-d6ec3f16059f;SkuId=73111121-5638-40f6-bc11-f1d7b0d64300;"
            "NotificationInterval=1440;Trigger=TimerEvent")

# id, qualifiers, level, provider, source name, channel, time, record, data, message
EVENTS = [
    (12288, 16384, 4, SPP, SPP_SOURCE, "Application", "2025-07-01T06:45:00Z", 4711, [INFO_12288],
     "The client has sent an activation request to the key management service machine.\r\nInfo:\r\n" + INFO_12288),
    (8198, 49152, 2, SPP, SPP_SOURCE, "Application", "2025-07-01T06:45:01Z", 4712, ["hr=0xC004F074", CMD_8198],
     "License Activation (slui.exe) failed with the following error code:\r\nhr=0xC004F074\r\nCommand-line arguments:\r\n" + CMD_8198),
    (16384, 16384, 4, SPP, SPP_SOURCE, "Application", "2025-07-01T06:45:02Z", 4713, ["2025-07-02T06:45:02Z", "RulesEngine"],
     "Successfully scheduled Software Protection service for re-start at 2025-07-02T06:45:02Z. Reason: RulesEngine."),
    (1003, 16384, 4, SPP, SPP_SOURCE, "Application", "2025-07-01T06:45:03Z", 4714, ["55c92734-d682-4d71-983e-d6ec3f16059f", ""],
     "The Software Protection service has completed licensing status check.\r\nApplication Id=55c92734-d682-4d71-983e-d6ec3f16059f\r\nLicensing Status="),
    (7036, 16384, 4, "Service Control Manager", "Service Control Manager", "System", "2025-07-01T06:45:04Z", 9001,
     ["Software Protection", "stopped"], "The Software Protection service entered the stopped state."),
]


def xml(e, quote="'"):
    (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
    q = quote
    guid = f" Guid={q}{SPP_GUID}{q}" if prov == SPP else ""
    datas = "".join(f"<Data>{d}</Data>" if d else "<Data></Data>" for d in data)
    return (f"<Event xmlns={q}{NS}{q}><System><Provider Name={q}{prov}{q}{guid} EventSourceName={q}{src}{q}/>"
            f"<EventID Qualifiers={q}{qual}{q}>{eid}</EventID><Version>0</Version><Level>{level}</Level>"
            f"<Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords>"
            f"<TimeCreated SystemTime={q}{time[:-1]}.000000000Z{q}/><EventRecordID>{rec}</EventRecordID>"
            f"<Correlation/><Execution ProcessID={q}0{q} ThreadID={q}0{q}/><Channel>{chan}</Channel>"
            f"<Computer>{HOST}</Computer><Security/></System><EventData>{datas}</EventData></Event>")


def epoch(time):
    import datetime
    return datetime.datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def write(name, text):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def ndjson(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def splunk():
    # REST search/jobs/export output_mode=json: one object per line; the second event's XML with
    # double-quoted (JSON-escaped) attributes.
    rows = [{"preview": False, "offset": i, "lastrow": i == len(EVENTS) - 1 or None,
             "result": {"_raw": xml(e, '"' if i == 1 else "'"), "_time": e[6].replace("Z", ".000+00:00"),
                        "host": "PC01", "index": "wineventlog", "source": f"XmlWinEventLog:{e[5]}",
                        "sourcetype": "XmlWinEventLog", "EventCode": str(e[0])}}
            for i, e in enumerate(EVENTS)]
    for r in rows:
        if r["lastrow"] is None:
            del r["lastrow"]
    write("splunk-export.json", ndjson(rows))


def classic_raw(e):
    (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
    kind = {2: "Error", 4: "Information"}[level]
    return (f"07/01/2025 {time[11:19]} AM\nLogName={chan}\nEventCode={eid}\nEventType={level}\n"
            f"ComputerName={HOST}\nSourceName={prov}\nType={kind}\nRecordNumber={rec}\n"
            f"Keywords=Classic\nTaskCategory=None\nOpCode=Info\nMessage={msg}")


def splunk_classic_raw():
    # REST search/jobs/export output_mode=raw: each event's _raw, one after the other (CRLF as the
    # forwarder keeps the message's own line breaks).
    write("splunk-classic-raw.txt", "".join(classic_raw(e).replace("\r\n", "\n") + "\n" for e in EVENTS))


def splunk_classic():
    def raw(e):
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        kind = {2: "Error", 4: "Information"}[level]
        return (f"07/01/2025 {time[11:19]} AM\nLogName={chan}\nEventCode={eid}\nEventType={level}\n"
                f"ComputerName={HOST}\nSourceName={prov}\nType={kind}\nRecordNumber={rec}\n"
                f"Keywords=Classic\nTaskCategory=None\nOpCode=Info\nMessage={msg}")
    doc = {"preview": False, "init_offset": 0, "messages": [], "fields": [{"name": "_raw"}, {"name": "_time"}],
           "results": [{"_raw": raw(e), "_time": e[6].replace("Z", ".000+00:00"), "host": "PC01",
                        "source": f"WinEventLog:{e[5]}", "sourcetype": "WinEventLog"} for e in EVENTS]}
    write("splunk-classic.json", json.dumps(doc, indent=2) + "\n")


def sentinel_event():
    rows = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        datas = "".join(f"<Data>{d}</Data>" for d in data)
        rows.append({
            "TenantId": "00000000-0000-0000-0000-000000000000", "SourceSystem": "OpsManager",
            "TimeGenerated": time.replace("Z", ".000Z"), "Source": prov, "EventLog": chan,
            "Computer": HOST, "EventLevel": level, "EventLevelName": {2: "Error", 4: "Information"}[level],
            "ParameterXml": "".join(f"<Param>{d}</Param>" for d in data),
            "EventData": (f"<DataItem type=\"System.XmlData\" time=\"{time}\" sourceHealthServiceId=\"00000000-0000-0000-0000-000000000000\">"
                          f"<EventData xmlns=\"{NS}\">{datas}</EventData></DataItem>"),
            "EventID": eid, "RenderedDescription": msg.replace("\r\n", " "), "Type": "Event",
        })
    write("sentinel-event.json", json.dumps(rows, indent=2) + "\n")


def sentinel_windowsevent():
    rows = []
    for i, e in enumerate(EVENTS):
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        row = {"TimeGenerated": time.replace("Z", ".000Z"), "Computer": HOST, "Channel": chan,
               "Provider": prov, "EventID": eid, "EventLevel": level, "EventRecordId": str(rec),
               "Keywords": "36028797018963968", "Type": "WindowsEvent"}
        if i == 2:
            # The table's own rule: RawEventData when EventData could not be parsed.
            row["EventData"] = None
            row["RawEventData"] = xml(e, '"')
        else:
            row["EventData"] = {"Data": data, "Binary": ""}
            row["RawEventData"] = None
        rows.append(row)
    write("sentinel-windowsevent.json", json.dumps({"tables": None, "rows": rows}, indent=2) + "\n")


def ecs():
    rows = []
    for i, e in enumerate(EVENTS):
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        # maputil.go AddPairs: unnamed Data as param{i+1}, empty values dropped, numbering kept.
        params = {f"param{n + 1}": d for n, d in enumerate(data) if d}
        doc = {"@timestamp": time.replace("Z", ".000Z"),
               "event": {"code": str(eid), "kind": "event", "provider": prov, "created": "2025-07-01T06:50:00.000Z"},
               "host": {"name": "pc01"}, "log": {"level": {2: "error", 4: "information"}[level]},
               "message": msg.replace("\r\n", "\n"),
               "winlog": {"channel": chan, "computer_name": HOST, "event_id": str(eid),
                          "provider_name": prov, "record_id": str(rec), "keywords": ["Classic"],
                          "api": "wineventlog", "event_data": params}}
        if prov == SPP:
            doc["winlog"]["provider_guid"] = SPP_GUID
        if i == 1:
            doc["event"]["original"] = xml(e, "'")
        rows.append(doc)
    write("elastic-ecs.ndjson", ndjson(rows))


def wazuh():
    hits = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        hits.append({"_index": "wazuh-alerts-4.x-2025.07.01", "_id": f"a{rec}", "_score": None, "_source": {
            "timestamp": time.replace("Z", ".000+0000"),
            "rule": {"level": 3, "description": "Windows application event", "id": "60602"},
            "agent": {"id": "007", "name": "PC01"}, "manager": {"name": "wazuh-manager"},
            "decoder": {"name": "windows_eventchannel"}, "location": "EventChannel",
            "data": {"win": {"system": {
                "providerName": prov, "providerGuid": SPP_GUID if prov == SPP else "",
                "eventSourceName": src, "eventID": str(eid), "version": "0", "level": str(level),
                "task": "0", "opcode": "0", "keywords": "0x80000000000000",
                "systemTime": time.replace("Z", ".0000000Z"), "eventRecordID": str(rec),
                "processID": "0", "threadID": "0", "channel": chan, "computer": HOST,
                "severityValue": {2: "ERROR", 4: "INFORMATION"}[level],
                "message": msg}}}}})
    doc = {"took": 5, "timed_out": False, "hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}
    write("wazuh-alerts.json", json.dumps(doc, indent=2) + "\n")


def gelf():
    rows = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        first = msg.split("\r\n")[0]
        rows.append({"version": "1.1", "host": "PC01", "short_message": first, "full_message": msg,
                     "timestamp": epoch(time), "level": 6 if level == 4 else 3,
                     "_EventReceivedTime": time.replace("T", " ").replace("Z", ""), "_SourceModuleName": "eventlog",
                     "_SourceModuleType": "im_msvistalog", "_Hostname": HOST, "_EventID": eid,
                     "_SourceName": prov, "_Channel": chan, "_RecordNumber": rec, "_Severity": "INFO"})
    write("gelf.ndjson", ndjson(rows))


def nxlog():
    rows = []
    for i, e in enumerate(EVENTS):
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        r = {"EventTime": time.replace("T", " ").replace("Z", ""), "Hostname": HOST,
             "Keywords": "36028797018963968", "EventType": "INFO" if level == 4 else "ERROR",
             "SeverityValue": 2 if level == 4 else 4, "Severity": "INFO" if level == 4 else "ERROR",
             "EventID": eid, "SourceName": prov, "ProviderGuid": SPP_GUID if prov == SPP else "",
             "Version": 0, "Task": 0, "OpcodeValue": 0, "RecordNumber": rec, "ProcessID": 0,
             "ThreadID": 0, "Channel": chan, "Message": msg, "Opcode": "Info",
             "EventReceivedTime": "2025-07-01 06:50:00", "SourceModuleName": "in", "SourceModuleType": "im_msvistalog"}
        if i == 0:
            r["EventXML"] = xml(e, "'")
        if i == 1:
            # OpenWEC's nxlog format keeps the unnamed Data as an array.
            r["Data"] = data
        rows.append(r)
    write("nxlog.ndjson", ndjson(rows))


def openwec():
    rows = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        rows.append({"System": {"Provider": {"Name": prov, "Guid": SPP_GUID if prov == SPP else None, "EventSourceName": src},
                                "EventID": eid, "EventIDQualifiers": qual, "Version": 0, "Level": level, "Task": 0,
                                "Opcode": 0, "Keywords": "0x80000000000000",
                                "TimeCreated": time.replace("Z", ".0000000Z"), "EventRecordID": rec,
                                "Correlation": {}, "Execution": {"ProcessID": 0, "ThreadID": 0},
                                "Channel": chan, "Computer": HOST},
                     "EventData": {"Data": data},
                     "RenderingInfo": {"Message": msg, "Level": "Information", "Culture": "en-US"},
                     "OpenWEC": {"IpAddress": "192.0.2.10", "TimeReceived": "2025-07-01T06:50:00.000Z",
                                 "Principal": "PC01$@CONTOSO.COM", "Subscription": {"Name": "activation",
                                                                                    "Uuid": "00000000-0000-0000-0000-000000000001"}}})
    write("openwec.ndjson", ndjson(rows))


def fluent_bit():
    evt, leg = [], []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        stamp = time.replace("T", " ").replace("Z", " +0000")
        evt.append({"date": epoch(time), "ProviderName": prov, "ProviderGuid": SPP_GUID if prov == SPP else "",
                    "Qualifiers": qual, "EventID": eid, "Version": 0, "Level": level, "Task": 0, "Opcode": 0,
                    "Keywords": "0x80000000000000", "TimeCreated": stamp, "EventRecordID": rec,
                    "ActivityID": "", "RelatedActivityID": "", "ProcessID": 0, "ThreadID": 0,
                    "Channel": chan, "Computer": HOST, "UserID": "", "Message": msg, "StringInserts": data})
        # winlog (the legacy API): the event id keeps its qualifiers in the high 16 bits.
        leg.append({"date": epoch(time), "RecordNumber": rec, "TimeGenerated": stamp, "TimeWritten": stamp,
                    "EventId": (qual << 16) | eid, "EventType": "Information" if level == 4 else "Error",
                    "EventCategory": 0, "Channel": chan, "SourceName": src, "ComputerName": HOST,
                    "Data": "", "Sid": "", "Message": msg, "StringInserts": data})
    write("fluent-bit-winevtlog.ndjson", ndjson(evt))
    write("fluent-bit-winlog.ndjson", ndjson(leg))


def get_eventlog():
    rows = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        ms = int(epoch(time) * 1000)
        rows.append({"EventID": eid, "MachineName": HOST, "Data": [], "Index": rec, "Category": "(0)",
                     "CategoryNumber": 0, "EntryType": 4 if level == 4 else 1, "Message": msg, "Source": src,
                     "ReplacementStrings": data, "InstanceId": (qual << 16) | eid,
                     "TimeGenerated": f"/Date({ms})/", "TimeWritten": f"/Date({ms})/", "UserName": None,
                     "Site": None, "Container": None})
    write("get-eventlog-convertto-json.json", json.dumps(rows, indent=4) + "\n")


def ntlogevent():
    rows = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        dmtf = time.replace("-", "").replace(":", "").replace("T", "").replace("Z", "") + ".000000-000"
        rows.append({"Category": 0, "CategoryString": None, "ComputerName": HOST, "Data": None,
                     "EventCode": eid, "EventIdentifier": (qual << 16) | eid, "EventType": 3 if level == 4 else 1,
                     "InsertionStrings": data, "Logfile": chan, "Message": msg, "RecordNumber": rec,
                     "SourceName": src, "TimeGenerated": dmtf, "TimeWritten": dmtf,
                     "Type": "Information" if level == 4 else "Error", "User": None,
                     "PSComputerName": "PC01"})
    write("win32-ntlogevent.json", json.dumps(rows, indent=4) + "\n")


def graylog():
    msgs = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        m = {"timestamp": time.replace("Z", ".000Z"), "source": "PC01", "message": msg.replace("\r\n", "\n"),
             "winlogbeat_winlog_event_id": str(eid), "winlogbeat_winlog_provider_name": prov,
             "winlogbeat_winlog_channel": chan, "winlogbeat_winlog_computer_name": HOST,
             "winlogbeat_winlog_record_id": str(rec), "winlogbeat_winlog_api": "wineventlog",
             "winlogbeat_event_code": str(eid)}
        for n, d in enumerate(data):
            if d:
                m[f"winlogbeat_winlog_event_data_param{n + 1}"] = d
        msgs.append({"message": m, "index": "graylog_0"})
    write("graylog-winlogbeat.json", json.dumps({"messages": msgs, "total_results": len(msgs)}, indent=2) + "\n")


def csv_text(header, rows):
    import csv
    import io
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return out.getvalue()


def csvs():
    # Splunk UI/REST CSV export of `| table _time host source sourcetype _raw`.
    rows = [[e[6].replace("Z", ".000+0000"), "PC01", f"XmlWinEventLog:{e[5]}", "XmlWinEventLog", xml(e, "'" if i else '"')]
            for i, e in enumerate(EVENTS)]
    write("splunk-export.csv", csv_text(["_time", "host", "source", "sourcetype", "_raw"], rows))
    # The Log Analytics portal's "Export to CSV (all columns)" of Event rows: "TimeGenerated [UTC]"
    # in the portal's US format; EventData the XML string.
    rows = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        h = int(time[11:13])
        stamp = f"7/1/2025, {h % 12 or 12}:{time[14:16]}:{time[17:19]}.000 {'AM' if h < 12 else 'PM'}"
        datas = "".join(f"<Data>{d}</Data>" for d in data)
        rows.append(["00000000-0000-0000-0000-000000000000", "OpsManager", stamp, prov, chan, HOST,
                     str(level), {2: "Error", 4: "Information"}[level], "".join(f"<Param>{d}</Param>" for d in data),
                     f"<DataItem type=\"System.XmlData\" time=\"{time}\"><EventData xmlns=\"{NS}\">{datas}</EventData></DataItem>",
                     str(eid), msg, "Event"])
    write("sentinel-event.csv", csv_text(["TenantId", "SourceSystem", "TimeGenerated [UTC]", "Source", "EventLog",
                                          "Computer", "EventLevel", "EventLevelName", "ParameterXml", "EventData",
                                          "EventID", "RenderedDescription", "Type"], rows))
    # Kibana Discover "CSV report" of selected ECS fields (empty values dropped by winlogbeat stay empty).
    rows = []
    for e in EVENTS:
        (eid, qual, level, prov, src, chan, time, rec, data, msg) = e
        p = [d for d in data] + [""] * (2 - len(data))
        rows.append([time.replace("Z", ".000Z"), HOST, str(eid), prov, chan, str(rec), p[0], p[1]])
    write("kibana-ecs.csv", csv_text(["@timestamp", "winlog.computer_name", "event.code", "winlog.provider_name",
                                      "winlog.channel", "winlog.record_id", "winlog.event_data.param1",
                                      "winlog.event_data.param2"], rows))


for make in [csvs, splunk, splunk_classic, splunk_classic_raw, sentinel_event, sentinel_windowsevent, ecs, wazuh, gelf, nxlog,
             openwec, fluent_bit, get_eventlog, ntlogevent, graylog]:
    make()
