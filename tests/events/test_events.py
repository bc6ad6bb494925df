"""Event listeners side by side: the same [eventlistener:x] (recorder.py, which speaks through
supervisor.childutils) runs under Debian's supervisord 4.2.5 and under pidvisor, with the same
programs and the same actions, and what it receives is compared after masking serials, pids
and times: event names, header keys, payloads."""
import json
import re
import time
from pathlib import Path

import pytest
from supervisor import childutils

from harness import SUPERVISORCTL, Daemon, run_client, wait_until

HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"
IMPLS = ("supervisord", "pidvisor")


def recorder(name, events, extra="", fail=0, out="events.jsonl"):
    fail_arg = f" --fail {fail}" if fail else ""
    return (f"[eventlistener:{name}]\ncommand={PY} {HERE}/recorder.py %(here)s/{out}{fail_arg}\n"
            f"events={events}\n{extra}\n")


def start(tmp_path, impl, conf):
    d = tmp_path / impl
    d.mkdir()
    return Daemon(impl, d, conf, control=True)


def records(daemon, out="events.jsonl"):
    path = daemon.tmp / out
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def recorded(daemon, eventname, text="", out="events.jsonl"):
    """Whether the listener has recorded an eventname event whose payload holds text."""
    return any(r["headers"]["eventname"] == eventname and text in r["payload"]
               for r in records(daemon, out))


def rpc(daemon):
    return childutils.getRPCInterface({"SUPERVISOR_SERVER_URL": daemon.url})


def mask(payload):
    payload = re.sub(r"\bpid:\d+", "pid:N", payload)
    return re.sub(r"\bwhen:\d+", "when:T", payload)


def check_headers(rec, pool):
    h = rec["headers"]
    assert sorted(h) == sorted(["ver", "server", "serial", "pool", "poolserial", "eventname",
                                "len"]), h
    assert h["ver"] == "3.0" and h["server"] == "supervisor" and h["pool"] == pool, h
    assert int(h["len"]) == len(rec["payload"]), rec


def shape(recs):
    """(eventname, masked payload) in order."""
    return [(r["headers"]["eventname"], mask(r["payload"])) for r in recs]


def by_process(recs):
    """Each process's PROCESS_STATE_* events in order: their relative order with another
    process's depends on timing, their own order does not."""
    out = {}
    for r in recs:
        m = re.match(r"processname:(\S+) ", r["payload"])
        if r["headers"]["eventname"].startswith("PROCESS_STATE") and m:
            out.setdefault(m.group(1), []).append(mask(r["payload"]) + " " +
                                                  r["headers"]["eventname"])
    return out


def restart_steady(d, times, records_then):
    """Stops and starts program steady `times` times, then waits for all `records_then` events
    of the scenario, the last one among them: the PROCESS_STATE_RUNNING of the steady that runs
    now (its pid)."""
    s = rpc(d)
    for _ in range(times):
        s.supervisor.stopProcess("steady")
        s.supervisor.startProcess("steady")
    last = (f"processname:steady groupname:steady from_state:STARTING "
            f"pid:{s.supervisor.getProcessInfo('steady')['pid']}")
    wait_until(lambda: len(records(d)) >= records_then and
               recorded(d, "PROCESS_STATE_RUNNING", last), timeout=30,
               what=f"{d.impl}: {records_then} events, the last steady's RUNNING among them",
               detail=lambda: shape(records(d)))


def run_both(tmp_path, conf, scenario, settle):
    """Runs conf under each implementation, calls scenario(daemon), stops it; returns
    {impl: daemon}."""
    result = {}
    for impl in IMPLS:
        d = start(tmp_path, impl, conf)
        try:
            d.wait_settled(settle, timeout=30)
            scenario(d)
            d.before_stop = len(records(d))
        finally:
            d.stop()
        result[impl] = d
    return result


STATE_PROGRAMS = (
    "[program:steady]\ncommand=sleep 1000\nstartsecs=1\n\n"
    "[program:quick]\ncommand=sh -c 'exit 0'\nstartsecs=3\nstartretries=1\n\n"
    "[program:ends]\ncommand=sh -c 'sleep 1.5; exit 3'\nstartsecs=1\nautorestart=false\n\n"
)


def test_process_state_events_match_supervisord(tmp_path):
    """The PROCESS_STATE supertype: every state of every process (RUNNING, BACKOFF, FATAL,
    EXITED with expected:0, STOPPING, STOPPED, STARTING with tries), the listener's own
    included, in each process's order, with the same payload keys."""
    conf = recorder("rec", "PROCESS_STATE", "buffer_size=100") + STATE_PROGRAMS

    def scenario(d):
        s = rpc(d)
        s.supervisor.stopProcess("steady")
        s.supervisor.startProcess("steady")
        wait_until(lambda: len(records(d)) >= 16, timeout=15, what="16 events")
        time.sleep(0.5)

    both = run_both(tmp_path, conf, scenario,
                    {"steady": "RUNNING", "quick": "FATAL", "ends": "EXITED", "rec": "RUNNING"})
    # what comes after the stop races with the listener's own stop, in supervisord too
    got = {impl: records(d)[:d.before_stop] for impl, d in both.items()}
    for recs in got.values():
        for r in recs:
            check_headers(r, "rec")
        serials = [int(r["headers"]["serial"]) for r in recs]
        assert serials == sorted(serials) and len(set(serials)) == len(serials), serials
    sup, pv = by_process(got["supervisord"]), by_process(got["pidvisor"])
    assert pv == sup
    assert "processname:ends groupname:ends from_state:RUNNING expected:0 pid:N " \
           "PROCESS_STATE_EXITED" in pv["ends"]
    assert any("tries:1" in e for e in pv["quick"])


def test_event_supertype_startup_order_and_group_events(tmp_path):
    """EVENT gets everything: the groups added at start-up (the listener's own first), then
    SUPERVISOR_STATE_CHANGE_RUNNING; at shutdown SUPERVISOR_STATE_CHANGE_STOPPING; update adds
    and removes a group: PROCESS_GROUP_ADDED/REMOVED."""
    extra_prog = "[program:later]\ncommand=sleep 1000\nstartsecs=0\n"

    def scenario(d):
        s = rpc(d)
        wait_until(lambda: len(records(d)) >= 4, timeout=10, what="start-up events")
        d.conf_path.write_text(d.conf_path.read_text() + extra_prog)
        s.supervisor.reloadConfig()
        s.supervisor.addProcessGroup("later")
        wait_until(lambda: any(r["payload"] == "groupname:later\n" for r in records(d)),
                   timeout=10, what="PROCESS_GROUP_ADDED later")
        wait_until(lambda: "RUNNING" == d.states().get("later"), timeout=10, what="later")
        s.supervisor.stopProcess("later")
        s.supervisor.removeProcessGroup("later")
        wait_until(lambda: any(r["headers"]["eventname"] == "PROCESS_GROUP_REMOVED"
                               for r in records(d)), timeout=10, what="REMOVED")

    conf = recorder("rec", "EVENT", "buffer_size=100") + "[program:steady]\ncommand=sleep 1000\nstartsecs=1\n\n"
    both = run_both(tmp_path, conf, scenario, {"steady": "RUNNING", "rec": "RUNNING"})
    names = {}
    for impl, d in both.items():
        recs = [r for r in records(d) if not r["headers"]["eventname"].startswith("TICK")]
        for r in recs:
            check_headers(r, "rec")
        names[impl] = [r["headers"]["eventname"] for r in recs]
        assert shape(recs)[:3] == [("PROCESS_GROUP_ADDED", "groupname:rec\n"),
                                   ("PROCESS_GROUP_ADDED", "groupname:steady\n"),
                                   ("SUPERVISOR_STATE_CHANGE_RUNNING", "")], (impl, recs[:4])
        assert ("PROCESS_GROUP_REMOVED", "groupname:later\n") in shape(recs), impl
    for n in names.values():
        assert n.count("PROCESS_GROUP_ADDED") == 3 and n.count("PROCESS_GROUP_REMOVED") == 1
    assert (by_process(records(both["pidvisor"])[:both["pidvisor"].before_stop]) ==
            by_process(records(both["supervisord"])[:both["supervisord"].before_stop]))


def test_stopping_event_reaches_the_listener_before_it_stops(tmp_path):
    """Listeners stop last (priority -1): they see SUPERVISOR_STATE_CHANGE_STOPPING."""
    # steady takes a second to stop, so the listener (stopped after it) has had the time to
    # read what it was sent; an instant stop races it on a loaded machine, in both supervisors
    conf = (recorder("rec", "SUPERVISOR_STATE_CHANGE")
            + "[program:steady]\ncommand=sh -c 'trap \"sleep 1; exit 0\" TERM; "
              "while :; do sleep 0.1; done'\nstartsecs=1\n\n")

    def scenario(d):
        wait_until(lambda: recorded(d, "SUPERVISOR_STATE_CHANGE_RUNNING"), timeout=30,
                   what=f"{d.impl}: SUPERVISOR_STATE_CHANGE_RUNNING")

    both = run_both(tmp_path, conf, scenario, {"steady": "RUNNING", "rec": "RUNNING"})
    shapes = {impl: shape(records(d)) for impl, d in both.items()}
    want = [("SUPERVISOR_STATE_CHANGE_RUNNING", ""), ("SUPERVISOR_STATE_CHANGE_STOPPING", "")]
    assert shapes["pidvisor"] == want
    # supervisord's listener may be stopped before it has read the last one
    assert shapes["supervisord"] == want[:len(shapes["supervisord"])]


TALKER = (f"[program:talker]\ncommand={PY} -u {HERE}/talker.py\nstartsecs=0\n"
          "stdout_events_enabled=true\nstderr_events_enabled=true\n"
          "stdout_capture_maxbytes=1MB\nstderr_capture_maxbytes=1KB\n\n")


def test_log_and_communication_events_match_supervisord(tmp_path):
    """PROCESS_LOG_STDOUT/STDERR (stdout_events_enabled) carry every byte outside the tokens,
    and the captured part too; PROCESS_COMMUNICATION_STDOUT carries what is between
    <!--XSUPERVISOR:BEGIN--> and END (capture mode), which stays out of the log file;
    undecodable output is sent as supervisord's 'Undecodable: b...'."""
    conf = recorder("rec", "PROCESS_LOG,PROCESS_COMMUNICATION") + TALKER

    # every event the talker makes: its last line on each stream, the message captured on each
    events = [("PROCESS_LOG_STDOUT", "a last line long enough to be logged at once"),
              ("PROCESS_COMMUNICATION_STDOUT", "captured"),
              ("PROCESS_LOG_STDERR", "long enough to go out"),
              ("PROCESS_COMMUNICATION_STDERR", "on stderr")]

    def scenario(d):
        wait_until(lambda: all(recorded(d, *e) for e in events), timeout=30,
                   what=f"{d.impl}: the talker's events",
                   detail=lambda: [e for e in events if not recorded(d, *e)])

    both = run_both(tmp_path, conf, scenario, {"talker": "RUNNING", "rec": "RUNNING"})
    summary = {}
    for impl, d in both.items():
        recs = records(d)
        for r in recs:
            check_headers(r, "rec")
        data = {}
        for r in recs:
            head, body = r["payload"].split("\n", 1)
            keys = [kv.split(":")[0] for kv in head.split()]
            data.setdefault(r["headers"]["eventname"], []).append(body)
            want = ["processname", "groupname", "pid"]
            if r["headers"]["eventname"].startswith("PROCESS_LOG"):
                want.append("channel")
            assert keys == want, (impl, r)
        log = next(d.tmp.glob("talker-stdout*")).read_text()
        summary[impl] = {"out": "".join(data.get("PROCESS_LOG_STDOUT", [])),
                         "err": "".join(data.get("PROCESS_LOG_STDERR", [])),
                         "comm": data.get("PROCESS_COMMUNICATION_STDOUT"),
                         "comm_err": data.get("PROCESS_COMMUNICATION_STDERR"), "file": log}
    assert summary["pidvisor"] == summary["supervisord"]
    s = summary["pidvisor"]
    assert s["comm"] == ["captured \u00e9\ndata"] and s["comm_err"] == ["on stderr"]
    assert "captured" not in s["file"] and "before  after" in s["file"].replace("\n", "")
    assert "Undecodable: b'a bad \\xff byte, longer than a token\\n'" in s["err"]


def test_capture_tokens_cut_across_reads_match_supervisord(tmp_path):
    """Capture mode with both tokens cut between two reads: the held start of a token goes in
    front of the next read, so what is between them is one PROCESS_COMMUNICATION_STDOUT event
    and the log file gets the rest, in order, as supervisord's does."""
    conf = recorder("rec", "PROCESS_COMMUNICATION") + (
        f"[program:splitter]\ncommand={PY} -u {HERE}/splitter.py\nstartsecs=0\n"
        "stdout_capture_maxbytes=1KB\n\n")

    def scenario(d):
        wait_until(lambda: "go out" in "".join(p.read_text() for p in
                                                d.tmp.glob("splitter-stdout*")),
                   timeout=15, what="the splitter's last line")
        wait_until(lambda: recorded(d, "PROCESS_COMMUNICATION_STDOUT"), timeout=30,
                   what=f"{d.impl}: the splitter's PROCESS_COMMUNICATION_STDOUT")

    both = run_both(tmp_path, conf, scenario, {"splitter": "RUNNING", "rec": "RUNNING"})
    got = {impl: ([r["payload"].split("\n", 1)[1] for r in records(d)],
                  next(d.tmp.glob("splitter-stdout*")).read_text())
           for impl, d in both.items()}
    assert got["pidvisor"] == got["supervisord"]
    assert got["pidvisor"] == (["secret"], "left, a line long enough  right, and a line long "
                                           "enough to go out\n")


def test_remote_communication_and_tick_match_supervisord(tmp_path):
    """sendRemoteCommEvent: REMOTE_COMMUNICATION with type:<t> and the data, its len counted in
    characters; TICK_5 every 5 seconds with when: on a multiple of 5."""
    conf = recorder("rec", "REMOTE_COMMUNICATION,TICK_5")

    def scenario(d):
        rpc(d).supervisor.sendRemoteCommEvent("greeting", "h\u00e9llo\nworld")
        # each in its own time: a loaded machine can see the tick come first
        for name, secs in (("REMOTE_COMMUNICATION", 15), ("TICK_5", 12)):
            wait_until(lambda: any(r["headers"]["eventname"] == name for r in records(d)),
                       timeout=secs, what=f"{d.impl}: {name}")

    both = run_both(tmp_path, conf, scenario, {"rec": "RUNNING"})
    for impl, d in both.items():
        recs = records(d)
        for r in recs:
            check_headers(r, "rec")
        remote = [r["payload"] for r in recs if r["headers"]["eventname"] ==
                  "REMOTE_COMMUNICATION"]
        assert remote == ["type:greeting\nh\u00e9llo\nworld"], impl
        ticks = [r["payload"] for r in recs if r["headers"]["eventname"] == "TICK_5"]
        assert ticks and all(re.fullmatch(r"when:\d+", t) for t in ticks), impl
        assert all(int(t[5:]) % 5 == 0 and abs(int(t[5:]) - time.time()) < 30 for t in ticks)


def test_buffer_overflow_and_fail_rebuffering_match_supervisord(tmp_path):
    """A listener that never says READY: its pool keeps buffer_size events and drops the
    oldest, with supervisord's log line. A listener that answers FAIL gets the same event again
    (same serial) until it answers OK."""
    conf = ("[eventlistener:deaf]\ncommand=sleep 1000\nevents=PROCESS_STATE\nbuffer_size=2\n\n"
            # not deaf's priority: supervisord would give picky's rejected events to deaf too
            # (its handle_rejected compares processes by priority); pidvisor does not
            + recorder("picky", "PROCESS_STATE_RUNNING", "priority=-2", fail=2)
            + "[program:steady]\ncommand=sleep 1000\nstartsecs=1\n\n")

    def scenario(d):
        restart_steady(d, 2, 7)
        d.dropped = re.findall(r"pool deaf event buffer overflowed, discarding event (\d+)",
                               d.log())

    both = run_both(tmp_path, conf, scenario,
                    {"steady": "RUNNING", "deaf": "RUNNING", "picky": "RUNNING"})
    dropped, deliveries = {}, {}
    for impl, d in both.items():
        dropped[impl] = d.dropped
        recs = records(d)[:d.before_stop]
        for r in recs:
            check_headers(r, "picky")
        deliveries[impl] = [(int(r["headers"]["poolserial"]), mask(r["payload"])) for r in recs]
    assert len(dropped["pidvisor"]) == len(dropped["supervisord"]) > 0
    # the first event went three times (FAIL, FAIL, OK), the next ones once each
    for impl, dl in deliveries.items():
        assert [ps for ps, _ in dl[:4]] == [0, 0, 0, 1], (impl, dl)
    assert (sorted(p for _, p in set(deliveries["pidvisor"])) ==
            sorted(p for _, p in set(deliveries["supervisord"])))


def test_pool_of_listeners_shares_the_events(tmp_path):
    """numprocs=2: each event goes to one listener of the pool, never to both."""
    conf = (recorder("pool", "PROCESS_STATE",
                     extra="numprocs=2\nprocess_name=%(program_name)s_%(process_num)d")
            + "[program:steady]\ncommand=sleep 1000\nstartsecs=1\n\n")

    def scenario(d):
        restart_steady(d, 3, 18)

    both = run_both(tmp_path, conf, scenario,
                    {"steady": "RUNNING", "pool:pool_0": "RUNNING", "pool:pool_1": "RUNNING"})
    shapes = {}
    for impl, d in both.items():
        recs = records(d)[:d.before_stop]
        serials = [r["headers"]["serial"] for r in recs]
        assert len(serials) == len(set(serials)), (impl, "an event went twice")
        shapes[impl] = sorted(shape(recs))
        assert {r["listener"] for r in recs} <= {"pool_0", "pool_1"}
    assert shapes["pidvisor"] == shapes["supervisord"]


def test_a_listener_in_ctl_status_and_process_info(tmp_path):
    """A listener is a process like any other for getProcessInfo and ctl: stop, start and
    restart of its pool."""
    conf = recorder("rec", "PROCESS_STATE")
    infos = {}
    for impl in IMPLS:
        d = start(tmp_path, impl, conf)
        try:
            d.wait_settled({"rec": "RUNNING"})
            s = rpc(d)
            assert s.supervisor.stopProcessGroup("rec")[0]["description"] == "OK"
            assert d.states()["rec"] == "STOPPED"
            s.supervisor.startProcessGroup("rec")
            d.wait_settled({"rec": "RUNNING"})
            info = s.supervisor.getProcessInfo("rec")
            infos[impl] = {k: info[k] for k in ("name", "group", "statename", "spawnerr")}
            assert info["stdout_logfile"].startswith(str(d.tmp)), info
            ctl = [SUPERVISORCTL, "-c", str(d.conf_path)]
            out = [run_client(ctl + cmd)[1] for cmd in (["restart", "rec:*"], ["status"])]
            infos[impl]["ctl"] = [re.sub(r"pid \d+, uptime [\d:]+", "pid N, uptime T", o)
                                  for o in out]
        finally:
            d.stop()
    assert infos["pidvisor"] == infos["supervisord"]
    assert infos["pidvisor"]["ctl"] == ["rec: stopped\nrec: started\n",
                                        "rec                              RUNNING   "
                                        "pid N, uptime T\n"]


def test_a_listener_that_dies_busy_gets_its_event_back(tmp_path):
    """The event a listener was handling when it died goes to its successor."""
    conf = (f"[eventlistener:dies]\ncommand={PY} {HERE}/dies_once.py\n"
            "events=SUPERVISOR_STATE_CHANGE_RUNNING\nenvironment=OUT=\"%(here)s\"\n"
            "startsecs=0\n")
    for impl in IMPLS:
        d = start(tmp_path, impl, conf)
        try:
            wait_until(lambda: (d.tmp / "events.jsonl").exists() and
                       len((d.tmp / "events.jsonl").read_text().split("\n")) >= 3,
                       timeout=15, what="the event twice")
            lines = (d.tmp / "events.jsonl").read_text().split()
            assert lines[:4] == ["0", "SUPERVISOR_STATE_CHANGE_RUNNING"] * 2, (impl, lines)
        finally:
            d.stop()


FAIL_FAST = {
    # the corpus' stop-supervisor.sh (tiangolo/uwsgi-nginx, mailcow): SIGQUIT to the pidfile's pid
    "pidfile": None,
    "ppid": "sh -c 'printf \"READY\\n\"; read header; kill -s QUIT $PPID; sleep 10'",
    "supervisorctl": ("sh -c 'printf \"READY\\n\"; read header; "
                      "/usr/bin/supervisorctl -c %(here)s/supervisord.conf shutdown; sleep 10'"),
}


@pytest.mark.parametrize("how", sorted(FAIL_FAST))
def test_fail_fast_listener_stops_the_supervisor_as_pid1(tmp_path, how):
    """Fail-fast listeners of the kinds real images use: on PROCESS_STATE_FATAL they SIGQUIT
    the supervisor (its pid from the pidfile, or $PPID) or call supervisorctl shutdown; the
    supervisor, PID 1 of its namespace, stops everything and exits 0."""
    command = FAIL_FAST[how]
    if command is None:
        script = tmp_path / "stop-supervisor.sh"
        script.write_text((HERE / "stop-supervisor.sh").read_text())
        script.chmod(0o755)
        command = str(script)
    conf = (f"[eventlistener:quit_on_failure]\ncommand={command}\n"
            "events=PROCESS_STATE_STOPPED,PROCESS_STATE_EXITED,PROCESS_STATE_FATAL\n"
            "environment=PIDFILE=\"%(here)s/supervisord.pid\"\n\n"
            "[program:broken]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=1\n\n"
            "[program:steady]\ncommand=sleep 1000\nstartsecs=0\n\n")
    for impl in IMPLS:
        d = start(tmp_path, impl, conf)
        try:
            rc = d.proc.wait(timeout=30)
        finally:
            d.close()
        log = d.log()
        # FATAL, or EXITED when a loaded machine lets `sh -c 'exit 1'` outlive startsecs
        assert re.search(r"gave up: broken entered FATAL state|"
                         r"success: broken entered RUNNING state", log), (impl, log)
        assert re.search(r"received SIGQUIT indicating exit request|stopped: steady", log), \
            (impl, log)
        assert "stopped: steady" in log and rc == 0, (impl, rc, log)


def test_a_rejected_event_goes_back_to_its_own_pool_only(tmp_path):
    """pidvisor's deliberate difference: supervisord 4.2.5 rebuffers an event a listener
    rejects into every pool that has a process of the same priority (its processes compare
    equal by priority, and listeners all default to -1), so a pool gets events it never
    subscribed to. pidvisor gives the event back to the pool that sent it."""
    conf = (recorder("picky", "PROCESS_STATE_RUNNING", fail=1, out="picky.jsonl")
            + recorder("other", "SUPERVISOR_STATE_CHANGE", out="other.jsonl"))
    d = start(tmp_path, "pidvisor", conf)
    try:
        d.wait_settled({"picky": "RUNNING", "other": "RUNNING"})
        wait_until(lambda: len(records(d, "picky.jsonl")) >= 2, what="picky's event twice")
        wait_until(lambda: recorded(d, "SUPERVISOR_STATE_CHANGE_RUNNING", out="other.jsonl"),
                   what="other's SUPERVISOR_STATE_CHANGE_RUNNING")
        time.sleep(0.3)  # the rejected event, sent back, does not reach other meanwhile
        names = {r["headers"]["eventname"] for r in records(d, "other.jsonl")}
        assert names == {"SUPERVISOR_STATE_CHANGE_RUNNING"}, names
    finally:
        d.stop()


def test_update_adds_and_removes_a_pool(tmp_path):
    """A pool added by update subscribes before its own PROCESS_GROUP_ADDED, so it gets it;
    removed, it unsubscribes first: the others get its PROCESS_GROUP_REMOVED."""
    conf = recorder("first", "PROCESS_GROUP", out="first.jsonl")
    added = recorder("second", "PROCESS_GROUP", "startsecs=0", out="second.jsonl")
    got = {}
    for impl in IMPLS:
        d = start(tmp_path, impl, conf)
        try:
            d.wait_settled({"first": "RUNNING"})
            d.conf_path.write_text(d.conf_path.read_text() + added)
            s = rpc(d)
            s.supervisor.reloadConfig()
            s.supervisor.addProcessGroup("second")
            d.wait_settled({"first": "RUNNING", "second": "RUNNING"})
            wait_until(lambda: records(d, "second.jsonl"), what="second's own ADDED")
            s.supervisor.stopProcessGroup("second")
            s.supervisor.removeProcessGroup("second")
            wait_until(lambda: len(records(d, "first.jsonl")) >= 3, what="first's 3 events")
            got[impl] = (shape(records(d, "first.jsonl")), shape(records(d, "second.jsonl")))
        finally:
            d.stop()
    assert got["pidvisor"] == got["supervisord"]
    assert got["pidvisor"] == (
        [("PROCESS_GROUP_ADDED", "groupname:first\n"), ("PROCESS_GROUP_ADDED", "groupname:second\n"),
         ("PROCESS_GROUP_REMOVED", "groupname:second\n")],
        [("PROCESS_GROUP_ADDED", "groupname:second\n")])


def test_protocol_errors_are_logged_as_supervisord_logs_them(tmp_path):
    """Junk instead of READY, a bad result line, a FAIL: the same WARN lines in the main log
    (and, at debug level, the same listener state changes)."""
    def sh(script):
        return f"sh -c '{script}; exec sleep 1000'"
    conf = "".join(
        f"[eventlistener:{name}]\ncommand={sh(script)}\nevents=PROCESS_STATE_RUNNING\n"
        "startsecs=0\n\n"
        for name, script in (
            ("junk", "echo NOT-READY"),
            ("badline", "echo READY; read header; printf \"RESULT x\\\\n\""),
            ("failer", "echo READY; read header; printf \"RESULT 4\\\\nFAIL\""),
        ))
    logs = {}
    for impl in IMPLS:
        d = start(tmp_path, impl, conf)
        try:
            d.wait_log(r"failer: event was rejected", timeout=15)
            d.wait_log(r"badline: bad result line", timeout=15)
            d.wait_log(r"junk: has entered the UNKNOWN state", timeout=15)
        finally:
            d.stop()
        rx = re.compile(r"^\S+ \S+ (WARN|DEBG) ((?:junk|badline|failer): .*)$", re.M)
        logs[impl] = sorted({m.group(1) + " " + m.group(2) for m in rx.finditer(d.log())
                             if "output" not in m.group(2)})
    assert logs["pidvisor"] == logs["supervisord"]
    assert "WARN badline: bad result line: 'RESULT x'" in logs["pidvisor"]
    assert "DEBG failer: BUSY -> ACKNOWLEDGED" in logs["pidvisor"]
