"""Scheduled programs (schedule=) as PID 1 of a PID namespace: repeated runs at each due time,
a run skipped while the previous one goes on, ctl status's next run, --check-config's errors
and next runs, schedule_timezone, schedule_jitter and schedule_missed."""
import calendar
import datetime
import re
import signal
import subprocess
import time
from zoneinfo import ZoneInfo

import pytest

from harness import PIDVISOR, wait_until


def ctl_status(d):
    return subprocess.run([PIDVISOR, "ctl", "-c", str(d.conf_path), "status"],
                          capture_output=True, text=True, timeout=30).stdout


def check_config(build, conf, text, env=None):
    conf.write_text(text)
    return subprocess.run([build, "-c", str(conf), "--check-config"], capture_output=True,
                          text=True, timeout=30, env=env)


def test_every_runs_the_program_at_each_due_time(run, tmp_path):
    out = tmp_path / "runs"
    conf = ("[program:tick]\n"
            f"command=sh -c 'echo \"$GREETING\" >> {out}'\n"
            "environment=GREETING=hello\n"
            "schedule=@every 1s\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"spawned: 'tick'", count=3, timeout=60)
    # each run is a one-shot through the normal spawn path: its environment, no restart
    wait_until(lambda: out.exists() and out.read_text().count("hello\n") >= 3, timeout=30,
               what="three runs' output")
    assert "exited: tick (exit status 0; expected)" in d.log()
    # startsecs does not apply: a run is RUNNING from its spawn, and the log does not say 1 s
    assert "tick entered RUNNING state, process has stayed up for > than 0 seconds" in d.log()
    assert "scheduled run skipped" not in d.log()


def test_a_scheduled_program_is_not_autostarted_nor_restarted(run, tmp_path):
    conf = ("[program:plain]\ncommand=sleep 1000\nstartsecs=0\n\n"
            "[program:yearly]\ncommand=sleep 1000\nautostart=true\nautorestart=true\n"
            "schedule=@yearly\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"spawned: 'plain'")
    # autostarts all happen in one pass: had yearly been started, it would be in the log now
    status = wait_until(lambda: (s := ctl_status(d)) and "yearly" in s and s, timeout=30,
                        what="ctl status")
    assert "spawned: 'yearly'" not in d.log()
    line = next(line for line in status.splitlines() if line.startswith("yearly"))
    year = time.gmtime().tm_year + 1
    assert re.search(rf"STOPPED\s+Not started; next run {year}-01-01 00:00:00", line), line


def test_run_on_start_runs_once_at_start_up_then_on_schedule(run, tmp_path):
    """schedule_run_on_start: one run at start-up, after its dependency as autostart would
    be, then the next run waits for the schedule (a year away here)."""
    conf = ("[program:db]\ncommand=sleep 1000\nstartsecs=0\n\n"
            "[program:migrate]\ncommand=sh -c 'echo migrated'\nschedule=@yearly\n"
            "schedule_run_on_start=true\ndepends_on=db\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"exited: migrate \(exit status 0; expected\)")
    log = d.log()
    assert log.index("spawned: 'db'") < log.index("spawned: 'migrate'"), log
    assert log.count("spawned: 'migrate'") == 1
    line = wait_until(lambda: next((x for x in ctl_status(d).splitlines()
                                    if x.startswith("migrate")), None), what="migrate's status")
    year = time.gmtime().tm_year + 1
    assert re.search(rf"EXITED.*next run {year}-01-01 00:00:00", line), line


def test_run_on_start_needs_a_schedule(build, tmp_path):
    conf = tmp_path / "bad.conf"
    r = check_config(build, conf, "[supervisord]\n[program:job]\ncommand=sleep 1\n"
                     "schedule_run_on_start=true\n")
    assert r.returncode == 2, r.stdout
    assert (f"{conf}:4: [program:job] schedule_run_on_start: needs a schedule in the same "
            "section" in r.stdout), r.stdout


def test_overlap_skip_does_not_start_a_run_still_going(run, tmp_path):
    conf = "[program:long]\ncommand=sleep 1000\nschedule=@every 1s\n"
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"spawned: 'long'")
    d.wait_log(r"long: scheduled run skipped: the previous run is still going", count=2,
               timeout=60)
    assert len(re.findall(r"spawned: 'long'", d.log())) == 1
    [line] = [line for line in ctl_status(d).splitlines() if line.startswith("long")]
    assert re.search(r"RUNNING\s+pid \d+, uptime [\d:]+; next run \d{4}-\d\d-\d\d ", line), line


def test_status_shows_the_last_runs_exit(run, tmp_path):
    conf = "[program:fails]\ncommand=sh -c 'exit 3'\nschedule=@every 1s\n"
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"exited: fails \(exit status 3; not expected\)", count=2, timeout=60)
    # a failing run is not retried (no BACKOFF, no FATAL): it waits for the next due time
    assert "gave up" not in d.log() and "FATAL" not in ctl_status(d)
    wait_until(lambda: re.search(r"fails\s+EXITED\s+.*last run exit 3; next run ",
                                 ctl_status(d)), timeout=30, what="the last run's exit")


def test_check_config_names_a_bad_schedule(build, tmp_path):
    conf = tmp_path / "bad.conf"
    r = check_config(build, conf,
                     "[supervisord]\n[program:job]\ncommand=sleep 1\nschedule=*/5 25 * * *\n"
                     "[program:job2]\ncommand=sleep 1\nschedule=@every 10\n"
                     "schedule_overlap=wait\n"
                     "[program:job3]\ncommand=sleep 1\nschedule=@daily\n"
                     "schedule_timezone=Europe/Atlantis\nschedule_missed=later\n"
                     "schedule_jitter=-1\n")
    assert r.returncode == 2, r.stdout
    lines = r.stdout.splitlines()
    assert (f"{conf}:12: [program:job3] schedule_timezone: 'Europe/Atlantis' is not a time "
            "zone in /usr/share/zoneinfo (an IANA name such as Europe/Paris)" in lines), r.stdout
    assert (f"{conf}:13: [program:job3] schedule_missed: 'later' is not one of skip, run_once"
            in lines), r.stdout
    assert f"{conf}:14: [program:job3] schedule_jitter: '-1' is not a duration" in r.stdout
    assert (f"{conf}:4: [program:job] schedule: '*/5 25 * * *' has a bad hour field (0-23)"
            in r.stdout.splitlines()), r.stdout
    assert f"{conf}:7: [program:job2] schedule: '@every 10' is not @every DURATION" in r.stdout
    assert (f"{conf}:8: [program:job2] schedule_overlap: 'wait' is not one of skip, queue, kill"
            in r.stdout.splitlines()), r.stdout


def test_check_config_prints_the_next_three_runs(build, tmp_path):
    r = check_config(build, tmp_path / "ok.conf",
                     "[supervisord]\n[program:job]\ncommand=sleep 1\nschedule=0 3 * * *\n",
                     env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout
    m = re.search(r":2: note: \[program:job\] schedule: next runs "
                  r"(\S+) 03:00:00 UTC, (\S+) 03:00:00 UTC, (\S+) 03:00:00 UTC", r.stdout)
    assert m, r.stdout
    days = [time.strptime(day, "%Y-%m-%d") for day in m.groups()]
    stamps = [calendar.timegm(t) for t in days]
    assert stamps[1] - stamps[0] == stamps[2] - stamps[1] == 86400


def test_overlap_queue_starts_the_run_when_the_previous_ends(run, tmp_path):
    conf = ("[program:slow]\ncommand=sleep 3\nschedule=@every 1s\nschedule_overlap=queue\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"slow: scheduled run queued: the previous run is still going", timeout=60)
    d.wait_log(r"slow: scheduled run skipped: the previous run is still going "
               r"\(schedule_overlap=queue, one run queued already\)", timeout=60)
    d.wait_log(r"spawned: 'slow'", count=2, timeout=60)
    # the queued run starts as the first ends, not at a later due time: nothing between them
    log = d.log()
    first_exit = log.index("exited: slow")
    assert re.match(r"[^\n]*\n[^\n]*spawned: 'slow'", log[first_exit:]), log[first_exit:][:400]


def test_overlap_kill_stops_the_previous_run(run, tmp_path):
    conf = ("[program:stuck]\ncommand=sleep 1000\nschedule=@every 1s\nschedule_overlap=kill\n"
            "stopwaitsecs=30\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"stuck: stopping the previous run: the next is due", timeout=60)
    d.wait_log(r"stopped: stuck \(terminated by SIGTERM\)", timeout=60)
    d.wait_log(r"spawned: 'stuck'", count=2, timeout=60)


def test_reload_adds_and_removes_a_schedule(run, tmp_path):
    d = run("pidvisor", "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n", control=True)
    d.wait_log(r"spawned: 'plain'")
    d.rewrite("[program:plain]\ncommand=sleep 1000\nstartsecs=0\n\n"
              "[program:tick]\ncommand=true\nschedule=@every 1s\n")
    subprocess.run([PIDVISOR, "ctl", "-c", str(d.conf_path), "update"], timeout=30, check=True,
                   capture_output=True)
    d.wait_log(r"spawned: 'tick'", count=2, timeout=60)
    d.rewrite("[program:plain]\ncommand=sleep 1000\nstartsecs=0\n")
    subprocess.run([PIDVISOR, "ctl", "-c", str(d.conf_path), "update"], timeout=30, check=True,
                   capture_output=True)
    wait_until(lambda: "tick" not in ctl_status(d), timeout=30, what="tick removed")
    runs = len(re.findall(r"spawned: 'tick'", d.log()))
    # its timer went with it: three more seconds, no run (ASan would see a freed timer fire)
    d.wait_log(r"spawned: 'plain'")
    time_limit = time.monotonic() + 3
    while time.monotonic() < time_limit:
        assert len(re.findall(r"spawned: 'tick'", d.log())) == runs
        time.sleep(0.2)
    assert "plain" in ctl_status(d)


def zone_next_runs(zone, hour, minute, count=3):
    """The next `count` daily HOUR:MINUTE in `zone` after now, as python's zoneinfo sees them:
    local times that do not exist skipped, repeated ones at their first instant (fold=0)."""
    tz = ZoneInfo(zone)
    now = datetime.datetime.now(datetime.timezone.utc)
    day = now.astimezone(tz).date()
    runs = []
    while len(runs) < count:
        local = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)
        exists = local.astimezone(datetime.timezone.utc).astimezone(tz).replace(
            tzinfo=None) == local.replace(tzinfo=None)
        if exists and local > now:
            runs.append(local.strftime("%Y-%m-%d %H:%M:%S %Z"))
        day += datetime.timedelta(days=1)
    return runs


def test_check_config_computes_in_the_schedule_timezone(build, tmp_path):
    # pidvisor's own zone is another one: the schedule's wins
    r = check_config(build, tmp_path / "tz.conf",
                     "[supervisord]\n[program:job]\ncommand=sleep 1\nschedule=30 2 * * *\n"
                     "schedule_timezone=America/New_York\n",
                     env={"TZ": "Asia/Tokyo", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout
    expected = zone_next_runs("America/New_York", 2, 30)
    assert (f":2: note: [program:job] schedule: next runs {', '.join(expected)}"
            in r.stdout), (expected, r.stdout)


def test_status_shows_the_next_run_in_the_schedule_timezone(run, tmp_path):
    conf = ("[program:paris]\ncommand=true\nschedule=15 4 * * *\n"
            "schedule_timezone=Europe/Paris\n")
    d = run("pidvisor", conf, control=True,
            env={"TZ": "America/Los_Angeles", "PATH": "/usr/bin:/bin"})
    status = wait_until(lambda: (s := ctl_status(d)) and "paris" in s and s, timeout=30,
                        what="ctl status")
    [line] = [line for line in status.splitlines() if line.startswith("paris")]
    assert f"next run {zone_next_runs('Europe/Paris', 4, 15, 1)[0]}" in line, line


def stamp(line):
    """A log line's time, in seconds (the log and a plan are in pidvisor's local time)."""
    m = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[,.](\d+)", line)
    return time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + float("." + m.group(2))


def test_jitter_delays_each_run_within_its_bounds(run, tmp_path):
    conf = ("[program:jit]\ncommand=true\nschedule=@every 1s\nschedule_jitter=2\n\n"
            "[program:yearly]\ncommand=true\nschedule=@yearly\nschedule_jitter=1h\n"
            "schedule_timezone=UTC\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"spawned: 'jit'", count=4, timeout=90)
    plans = re.findall(r"jit: next run (\S+ \S+): due (\S+ \S+), "
                       r"plus ([\d.]+) s of schedule_jitter", d.log())
    assert len(plans) >= 4, d.log()
    delays = [float(delay) for _, _, delay in plans]
    assert all(0 <= x <= 2 for x in delays), delays
    assert len(set(delays)) > 1, delays
    # each run starts once its planned time (due time plus delay) has come, not before
    spawns = [stamp(line) for line in d.log().splitlines() if "spawned: 'jit'" in line]
    for (at, _, _), spawned in zip(plans, spawns):
        assert spawned >= stamp(at) - 0.01, (at, spawned)
    # the next run shown is the due time plus its delay
    [plan] = re.findall(r"yearly: next run (\S+ \S+)\.\d+: due (\S+ \S+), plus ([\d.]+) s",
                        d.log())
    year = time.gmtime().tm_year + 1
    assert plan[1] == f"{year}-01-01 00:00:00" and float(plan[2]) <= 3600, plan
    [line] = [line for line in ctl_status(d).splitlines() if line.startswith("yearly")]
    assert f"next run {plan[0]} UTC" in line, (plan, line)


def sigstop_across_a_due_time(d):
    """Stops pidvisor just after a run has ended (a run still going would make the wake-up's
    run an overlap) for longer than two periods of @every 3s: the wake-up comes late by more
    than the 1 s pidvisor allows on that period. Returns the log's length then: what follows
    is from after the stop."""
    d.wait_log(r"exited: job \(exit status 0; expected\)")
    d.signal(signal.SIGSTOP)
    try:
        time.sleep(7)
        return len(d.log())
    finally:
        d.signal(signal.SIGCONT)


@pytest.mark.parametrize("missed, outcome", [("run_once", "running it once now"),
                                             ("skip", "skipped")])
def test_missed_runs_after_a_stop(run, tmp_path, missed, outcome):
    conf = f"[program:job]\ncommand=true\nschedule=@every 3s\nschedule_missed={missed}\n"
    d = run("pidvisor", conf, control=True)
    start = sigstop_across_a_due_time(d)
    # the log's order, not its times: the missed line, the next run planned, any run made up
    # for, then at the next due time the run after it planned and that due time's run
    pattern = (r"job: scheduled run due .* missed by \d+ s \(pidvisor was stopped or the clock "
               rf"jumped\): {outcome} \(schedule_missed={missed}\)\n(.*\n)*.*job: next run"
               r"(.*\n)*.*job: next run(.*\n)*.*spawned: 'job'")
    wait_until(lambda: re.search(pattern, d.log()[start:]), timeout=60,
               what="the missed run's line, then the next due time's run")
    lines = d.log()[start:].splitlines()
    i = next(i for i, line in enumerate(lines) if "missed by" in line)
    plans = [j for j in range(i, len(lines)) if "job: next run" in lines[j]]
    made_up = [line for line in lines[i:plans[1]] if "spawned: 'job'" in line]
    assert len(made_up) == (1 if missed == "run_once" else 0), lines
    assert any("spawned: 'job'" in line for line in lines[plans[1]:]), lines
    assert sum("missed by" in line for line in lines) == 1, lines
