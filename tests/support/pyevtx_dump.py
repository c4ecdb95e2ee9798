#!/usr/bin/env python3
"""Reads an .evtx file with python-evtx (an independent reader) and prints, as JSON, whether its
file and chunk checksums verify and every record's fields, for kmsdiag's writer round-trip test."""
import json
import sys
import xml.etree.ElementTree as ET

import Evtx.Evtx as evtx

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def text(el):
    return "" if el is None or el.text is None else el.text


def record(xml):
    root = ET.fromstring(xml)
    sys_ = root.find(NS + "System")
    prov = sys_.find(NS + "Provider")
    eid = sys_.find(NS + "EventID")
    ex = sys_.find(NS + "Execution")
    data = root.find(NS + "EventData")
    return {
        "provider": prov.get("Name"),
        "guid": prov.get("Guid"),
        "source": prov.get("EventSourceName"),
        "event_id": text(eid),
        "qualifiers": eid.get("Qualifiers"),
        "version": text(sys_.find(NS + "Version")),
        "level": text(sys_.find(NS + "Level")),
        "task": text(sys_.find(NS + "Task")),
        "opcode": text(sys_.find(NS + "Opcode")),
        "keywords": text(sys_.find(NS + "Keywords")),
        "time": sys_.find(NS + "TimeCreated").get("SystemTime"),
        "record_id": text(sys_.find(NS + "EventRecordID")),
        "process_id": ex.get("ProcessID"),
        "thread_id": ex.get("ThreadID"),
        "channel": text(sys_.find(NS + "Channel")),
        "computer": text(sys_.find(NS + "Computer")),
        "data": [] if data is None else [text(d) for d in data.findall(NS + "Data")],
    }


def main():
    with evtx.Evtx(sys.argv[1]) as log:
        header = log.get_file_header()
        out = {
            "header_ok": header.verify(),
            "dirty": header.is_dirty(),
            "full": header.is_full(),
            "chunks_ok": all(c.verify() for c in header.chunks()),
            "records": [record(r.xml()) for r in log.records()],
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
