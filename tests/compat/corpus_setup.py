"""The corpus of real supervisord configs (harness.CORPUS, outside this repository), made to run
here unchanged but for what must change (tests/compat/test_corpus.py):

- the main log, pidfile, childlogdir and control socket move under INSIDE, the run's directory
  (the same path for both supervisors, a different host directory for each: corpus_root.py);
- [include] patterns point into the copy: a directory that MANIFEST.tsv says the config's .d
  folder was installed in becomes INSIDE/NN.d, any other absolute pattern INSIDE/absent/...,
  so a literal include of a file the image did not ship stays missing;
- sections a snippet lacks are added ([supervisord], [unix_http_server] for the control socket,
  [rpcinterface:supervisor]; for an `include:@snippets` group file, an [include] of its .d);
- programs that are not installed here are stubs at the path the supervisor will exec
  (stubs/sleeper.c; a sleeping script for a script run by sh/bash/python3), and so are installed
  daemons the corpus names (node, pidproxy...), so that no state depends on what is installed;
- the users the corpus names exist, in the private root's /etc/passwd, and the directories its
  programs log to and run in exist there, as in the image.

Commands are expanded the way supervisord does (`%(name)s` with ENV_, program_name,
process_num...) with ENV, the supervisors' environment."""
import grp
import importlib.util
import json
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

from supervisor.options import UnhosedConfigParser

from harness import CORPUS

INSIDE = "/corpus-run"
HERE = Path(__file__).resolve().parent
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The environment both supervisors start with: the values an image would set for the
# %(ENV_X)s the corpus uses. A corpus variable missing here fails the test (ENV_NAMES).
ENV = {
    "PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "HOSTNAME": "corpus",
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    "AIO_LOG_LEVEL": "info", "JANUS_LOG_LEVEL": "4", "SUPERVISORD_STDOUT": "/dev/null",
    "CELERY_BACKUP_OPTIONS": "--concurrency 1", "CELERY_BEAT_OPTIONS": "",
    "CELERY_MAIN_OPTIONS": "--concurrency 2", "CELERY_MEMORY_OPTIONS": "--concurrency 1",
    "CELERY_NOTIFY_OPTIONS": "--concurrency 1", "CELERY_SINGLE_OPTIONS": "",
    "CELERY_TRANSLATE_OPTIONS": "--concurrency 1",
    "CONDA_ROOT": "/opt/conda", "RESOURCES_PATH": "/resources", "WORKSPACE_BASE_URL": "",
    "WORKSPACE_HOME": "/workspace", "WORKSPACE_PORT": "8080",
    "CVAT_REDIS_INMEM_HOST": "cvat_redis_inmem", "CVAT_REDIS_INMEM_PORT": "6666",
    "CVAT_REDIS_INMEM_PASSWORD": "", "NUMPROCS": "2",
    "SMOKESCREEN_OPTS": "--egress-acl-file /etc/smokescreen/acl.yaml",
    "DISPLAY_WIDTH": "1024", "DISPLAY_HEIGHT": "768",
    "FETCHMAIL_POLL": "300", "POSTGREY_AUTO_WHITELIST_CLIENTS": "5", "POSTGREY_DELAY": "300",
    "POSTGREY_MAX_AGE": "35", "POSTGREY_TEXT": "Delayed by Postgrey",
    "SASLAUTHD_MECH_OPTIONS": "127.0.0.1",
    "GRANIAN_APPLICATION": "weblate.wsgi:application", "GRANIAN_ARGS": "",
    "GRANIAN_INTERFACE": "wsgi", "GRANIAN_MODE_ARGS": "--blocking-threads 1",
    "GRANIAN_SOCKET": "/run/granian.socket", "WEB_WORKERS": "2",
    "LOG_PATH": "/var/log/android",
    "NUM_WORKERS_CACHE": "2", "NUM_WORKERS_DEFAULT": "2", "NUM_WORKERS_EMAIL": "1",
    "NUM_WORKERS_PRIO": "1", "NUM_WORKERS_UPDATE": "1",
    "SEL_USER": "seluser", "SE_ENABLE_BROWSER_LEFTOVERS_CLEANUP": "true",
    "SE_SUPERVISORD_CHILD_LOG_DIR": "/var/log/supervisor",
    "SE_SUPERVISORD_LOG_FILE": "/var/log/supervisor/supervisord.log",
    "SE_SUPERVISORD_LOG_LEVEL": "info", "SE_SUPERVISORD_PID_FILE": "/var/run/supervisord.pid",
    "SE_VIDEO_INTERNAL_UPLOAD": "false",
    "STUNNEL": "false", "STUNNEL_CONFIG": "/etc/stunnel/stunnel.conf",
    "SUPERVISOR_USERNAME": "admin", "SUPERVISOR_PASSWORD": "misp-secret",
}

# Commands kept as the host has them: interpreters whose script or -c string is followed
# instead, and the tools those strings use.
INTERPRETERS = {"bash", "sh"}
WRAPPERS = {"env", "timeout"}
KEEP = {"sleep", "cat", "kill", "grep", "python3", "[", "test", "true", "false", "echo"}
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for",
               "exec", "!", "{", "}", "case", "esac", "exit"}
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;"}
PROGRAM_KINDS = ("program", "fcgi-program", "eventlistener")
# A group of users that the corpus's users are also in, so supplementary groups are compared.
EXTRA_GROUP = ("corpus-extra", 20100, ["www-data", "ds", "lemur"])
SH_STUB = "#!/bin/sh\nwhile :; do sleep 1000; done\n"
PYTHON_SITE = "/usr/lib/python3/dist-packages"
PY_STUB = "import time\nwhile True:\n    time.sleep(1000)\n"


def manifest():
    """{corpus file name: role} from MANIFEST.tsv."""
    rows = (line.split("\t") for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:])
    return {r[0]: r[1] for r in rows if len(r) > 1}


def cases():
    roles = manifest()
    return [Case(p, roles) for p in sorted(CORPUS.glob("*.conf"))]


def strip_comment(value):
    return re.split(r"\s[;#]", value, maxsplit=1)[0].strip()


class Program:
    """One process of a [program:x], [fcgi-program:x] or [eventlistener:x] section, expanded."""

    def __init__(self, kind, name, argv, directory, logs, user):
        self.kind, self.name, self.argv = kind, name, argv
        self.directory, self.logs, self.user = directory, logs, user


class Case:
    """One corpus config: its files, what it runs, and how to lay it out for a run."""

    def __init__(self, path, roles):
        self.path = path
        self.name = path.stem
        self.nn = self.name.split("-")[0]
        self.role = roles.get(path.name, "main")
        self.dotd = path.with_suffix(".d")
        self.included = sorted(self.dotd.glob("*")) if self.dotd.is_dir() else []
        # The directory the .d files were installed in, as MANIFEST.tsv says.
        self.include_dir = None
        for f in self.included:
            role = roles.get(f"{self.dotd.name}/{f.name}", "")
            if role.startswith("include:"):
                self.include_dir = role[len("include:"):]
        self.texts = {p: p.read_bytes().decode() for p in [path, *self.included]}
        self.parser = UnhosedConfigParser()
        for p in [path, *self.included]:
            self.parser.read(str(p))
        self.programs = list(self._programs())

    def sections(self, kind):
        return [s for s in self.parser.sections() if s == kind or s.startswith(kind + ":")]

    def kind_of(self, program_name):
        """'program', 'fcgi-program' or 'eventlistener' for a program (section) name."""
        for kind in PROGRAM_KINDS:
            if self.parser.has_section(f"{kind}:{program_name}"):
                return kind
        return None

    def get(self, section, key, exp, default=None):
        try:
            raw = self.parser.get(section, key)
        except Exception:
            return default
        try:
            return raw % exp
        except (ValueError, KeyError, TypeError):
            return raw  # supervisord refuses it; the run shows how each side does

    def _programs(self):
        env = {f"ENV_{k}": v for k, v in ENV.items()}
        for kind in PROGRAM_KINDS:
            for section in self.sections(kind):
                name = section.split(":", 1)[1]
                base = dict(env, program_name=name, group_name=name, here=INSIDE,
                            host_node_name="corpus")
                try:
                    numprocs = int(self.get(section, "numprocs", base, "1"))
                    start = int(self.get(section, "numprocs_start", base, "0"))
                except ValueError:
                    numprocs, start = 1, 0
                for num in range(start, start + numprocs):
                    exp = dict(base, process_num=num, numprocs=numprocs)
                    command = self.get(section, "command", exp, "")
                    try:
                        argv = shlex.split(command)
                    except ValueError:
                        argv = []
                    logs = [self.get(section, k, exp) for k in ("stdout_logfile",
                                                                "stderr_logfile")]
                    yield Program(kind, name, argv, self.get(section, "directory", exp),
                                  [v for v in logs if v], self.get(section, "user", exp))

    def users(self):
        names = {p.user for p in self.programs if p.user}
        for section in self.sections("unix_http_server"):
            chown = self.get(section, "chown", {})
            if chown:
                names.add(chown.split(":")[0])
        return names

    # --- the run's files

    def rewrite(self, text, main):
        """The text of one of the config's files with its paths moved under INSIDE."""
        out, section, has_logfile = [], None, False
        lines = text.splitlines(keepends=True)
        i = 0
        while i < len(lines):
            line = lines[i]
            body = line.rstrip("\r\n")
            i += 1
            m = re.match(r"\s*\[([^\]]+)\]", body)
            if m:
                section = m.group(1).strip()
                out.append(line)
                continue
            m = re.match(r"([A-Za-z0-9_.\-]+)\s*[=:]\s*(.*)$", body)
            if not m:
                out.append(line)
                continue
            # A value goes on over the indented lines that follow it.
            value, cont = [strip_comment(m.group(2))], i
            while cont < len(lines) and lines[cont][:1] in (" ", "\t") and lines[cont].strip():
                value.append(strip_comment(lines[cont]))
                cont += 1
            key = m.group(1).lower()
            new = self._new_value(section, key, " ".join(v for v in value if v))
            if new is None:
                out.append(line)
                continue
            has_logfile |= section == "supervisord" and key == "logfile"
            out.append(f"{m.group(1)}={new}{line[len(body):] or chr(10)}")
            i = cont
        text = "".join(out)
        if main:
            text = self._add_sections(text, has_logfile)
        return text

    def _new_value(self, section, key, value):
        if section == "supervisord":
            if key == "logfile":
                return value if value.startswith(("/dev/", "/proc/")) \
                    else f"{INSIDE}/log/supervisord.log"
            if key == "pidfile":
                return f"{INSIDE}/supervisord.pid"
            if key == "childlogdir":
                return f"{INSIDE}/childlog" + ("/" if value.endswith("/") else "")
        if section == "unix_http_server" and key == "file":
            return f"{INSIDE}/sup.sock"
        if section == "supervisorctl" and key == "serverurl":
            return f"unix://{INSIDE}/sup.sock"
        if section == "include" and key == "files":
            return " ".join(self._include(p) for p in value.split())
        return None

    def _include(self, pattern):
        if not pattern.startswith("/"):
            return pattern
        d, base = os.path.split(pattern)
        if self.include_dir and d.rstrip("/") == self.include_dir.rstrip("/"):
            return f"{INSIDE}/{self.dotd.name}/{base}"
        return f"{INSIDE}/absent{pattern}"

    def _add_sections(self, text, has_logfile):
        nl = "\r\n" if "\r\n" in text else "\n"
        if not text.endswith(("\n", "\r")):
            text += nl
        if not self.sections("supervisord"):
            text += f"{nl}[supervisord]{nl}"
        if not has_logfile:
            text = re.sub(r"^\[supervisord\][^\r\n]*(\r?\n)",
                          lambda m: f"{m.group(0)}logfile={INSIDE}/log/supervisord.log"
                                    f"{m.group(1)}", text, count=1, flags=re.M)
        if not self.sections("unix_http_server"):
            text += f"{nl}[unix_http_server]{nl}file={INSIDE}/sup.sock{nl}"
        if not self.parser.has_section("rpcinterface:supervisor"):
            text += (f"{nl}[rpcinterface:supervisor]{nl}supervisor.rpcinterface_factory = "
                     f"supervisor.rpcinterface:make_main_rpcinterface{nl}")
        if self.role == "snippet" and self.included and not self.sections("include"):
            text += f"{nl}[include]{nl}files = {INSIDE}/{self.dotd.name}/*.conf{nl}"
        return text

    def credentials(self):
        """(username, password) for the control socket, or (None, None)."""
        exp = {f"ENV_{k}": v for k, v in ENV.items()}
        user = self.get("supervisorctl", "username", exp) or \
            self.get("unix_http_server", "username", exp)
        password = self.get("supervisorctl", "password", exp) or \
            self.get("unix_http_server", "password", exp)
        return user, password

    def main_text(self):
        return self.rewrite(self.texts[self.path], main=True)

    def materialize(self, host, sleeper):
        """Lays out a run's host directory: the included files, upper/ and env.json (the main
        config is written by the Daemon)."""
        for d in ("log", "childlog"):
            (host / d).mkdir(parents=True, exist_ok=True)
        if self.included:
            (host / self.dotd.name).mkdir()
            for f in self.included:
                (host / self.dotd.name / f.name).write_text(self.rewrite(self.texts[f], False))
        (host / "env.json").write_text(json.dumps(ENV))
        upper = host / "upper"
        upper.mkdir()
        write_users(upper, self.users())
        for p in self.programs:
            for path in [p.directory, *[os.path.dirname(v) for v in p.logs]]:
                if path and path.startswith("/") and not path.startswith(("/dev", "/proc")) \
                        and not os.path.isdir(path):
                    mkdir_upper(upper, path)
            for path, kind in stubs_for(p.argv, p.directory).items():
                place_stub(upper, path, kind, sleeper)
        for module in self.result_handler_modules():
            dest = upper / PYTHON_SITE.lstrip("/")
            mkdir_upper(upper, PYTHON_SITE)
            shutil.copyfile(HERE / "stubs" / f"{module}.py", dest / f"{module}.py")

    def result_handler_modules(self):
        """The modules that [eventlistener:x] result_handler values name and that are not
        installed here."""
        out = set()
        for section in self.sections("eventlistener"):
            handler = self.get(section, "result_handler", {})
            if handler and ":" in handler:
                module = handler.split(":")[0]
                if importlib.util.find_spec(module) is None:
                    out.add(module)
        return out


def mkdir_upper(upper, path):
    """Makes path a directory in the private root; a component the host has keeps the host's
    mode and owner (an upper directory hides the lower one's)."""
    cur = upper
    for part in Path(path).parts[1:]:
        cur = cur / part
        if cur.is_dir():
            continue
        cur.mkdir()
        host = "/" + str(cur.relative_to(upper))
        if os.path.isdir(host):
            st = os.stat(host)
            os.chmod(cur, stat.S_IMODE(st.st_mode))
            os.chown(cur, st.st_uid, st.st_gid)


def place_stub(upper, path, kind, sleeper):
    dest = upper / path.lstrip("/")
    if dest.exists():
        return
    mkdir_upper(upper, os.path.dirname(path))
    if kind == "elf":
        shutil.copyfile(sleeper, dest)
    else:
        dest.write_text(SH_STUB if kind == "sh" else PY_STUB)
    dest.chmod(0o755)


def write_users(upper, names):
    """upper/etc/passwd and group: the host's, plus every user the config names, plus
    EXTRA_GROUP with its members."""
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    for i, name in enumerate(sorted(names)):
        if "%" in name:
            continue
        try:
            pwd.getpwnam(name)
            continue
        except KeyError:
            pass
        uid = 20001 + i
        passwd += f"{name}:x:{uid}:{uid}::/home/{name}:/usr/sbin/nologin\n"
        try:
            grp.getgrnam(name)
        except KeyError:
            group += f"{name}:x:{uid}:\n"
    gname, gid, members = EXTRA_GROUP
    group += f"{gname}:x:{gid}:{','.join(members)}\n"
    (upper / "etc").mkdir(exist_ok=True)
    (upper / "etc" / "passwd").write_text(passwd)
    (upper / "etc" / "group").write_text(group)


def which(name):
    for d in PATH.split(":"):
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def resolve(word, cwd):
    """The file a supervisor (or a shell) execs for argv[0] word, or where a stub for it goes
    when nothing is found: /usr/local/bin, first in PATH."""
    if "/" in word:
        return os.path.normpath(os.path.join(cwd or "/", word))
    return which(word) or f"/usr/local/bin/{word}"


def stubs_for(argv, cwd):
    """{path: 'elf' | 'sh' | 'py'}: the stubs a command needs so that it runs and sleeps."""
    out = {}
    if not argv:
        return out
    word = argv[0]
    base = os.path.basename(word)
    path = resolve(word, cwd)
    if base in INTERPRETERS and os.path.exists(path):
        i = 1
        while i < len(argv) and argv[i].startswith("-"):
            if "c" in argv[i][1:] and not argv[i].startswith("--"):
                if i + 1 < len(argv):
                    out.update(stubs_in_shell(argv[i + 1], cwd))
                return out
            i += 1
        if i < len(argv) and not os.path.exists(resolve_file(argv[i], cwd)):
            out[resolve_file(argv[i], cwd)] = "sh"
        return out
    if base in WRAPPERS and os.path.exists(path):
        rest = argv[1:]
        while rest and (rest[0].startswith("-") or "=" in rest[0]):
            rest = rest[1:]
        if base == "timeout" and rest:
            rest = rest[1:]
        return stubs_for(rest, cwd)
    if base == "python3" and os.path.exists(path):
        if len(argv) > 1 and not argv[1].startswith("-") and \
                not os.path.exists(resolve_file(argv[1], cwd)):
            out[resolve_file(argv[1], cwd)] = "py"
        return out
    if base in KEEP and os.path.exists(path):
        return out
    out[path] = "elf"
    return out


def resolve_file(word, cwd):
    return os.path.normpath(os.path.join(cwd or "/", word))


def stubs_in_shell(script, cwd):
    """Stubs for the commands of a `sh -c` string that are missing here (those found are kept:
    sleep, kill...)."""
    out = {}
    try:
        lex = shlex.shlex(script, posix=True, punctuation_chars=";&|()")
        lex.whitespace_split = True
        tokens = list(lex)
    except ValueError:
        return out
    command_position = True
    for tok in tokens:
        if tok in SEPARATORS or tok in SHELL_WORDS:
            command_position = True
            continue
        if command_position and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", tok):
            continue
        if command_position:
            if "$" not in tok and "`" not in tok:
                path = resolve(tok, cwd)
                if not os.path.exists(path):
                    out[path] = "elf"
            command_position = False
    return out


def build_sleeper(dest):
    subprocess.run(["cc", "-O2", "-o", str(dest), str(HERE / "stubs" / "sleeper.c")], check=True)
    dest.chmod(dest.stat().st_mode | stat.S_IXUSR)
    return dest


def env_names():
    """Every ENV_X the corpus expands."""
    names = set()
    for p in CORPUS.rglob("*.conf"):
        names.update(re.findall(r"%\(ENV_([A-Za-z0-9_]+)\)", p.read_text()))
    return names
