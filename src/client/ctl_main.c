/* `pidvisor ctl`'s command line (Python's getopt, as supervisorctl uses it), its config
 * (command line over config file over defaults), dispatch of one command line to its action
 * (cmd.Cmd.onecmd, with the 401 prompt) and the interactive shell. */
#include "ctl.h"
#include "ctl_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client_config.h"

#define DEFAULT_SERVERURL "http://localhost:9001"

void ctl_replace(char **slot, const char *value)
{
	free(*slot);
	*slot = value ? strdup(value) : NULL;
}

void ctl_split_words(const char *s, struct ctl_words *w)
{
	w->buf = strdup(s);
	w->n = 0;
	w->v = calloc(strlen(s) / 2 + 2, sizeof(char *));
	if (!w->buf || !w->v) {
		perror("pidvisor ctl");
		exit(EXIT_GENERIC);
	}
	for (char *save = NULL, *t = strtok_r(w->buf, " \t\n\r\f\v", &save); t;
	     t = strtok_r(NULL, " \t\n\r\f\v", &save))
		w->v[w->n++] = t;
}

void ctl_words_free(struct ctl_words *w)
{
	free(w->v);
	free(w->buf);
}

bool ctl_words_has(const struct ctl_words *w, const char *s)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i], s) == 0)
			return true;
	return false;
}

char *ctl_read_line(const char *prompt)
{
	if (prompt) {
		fputs(prompt, stdout);
		fflush(stdout);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

bool ctl_confirm(struct ctl *c, const char *question)
{
	if (!c->interactive)
		return true;
	char *answer = ctl_read_line(question);
	bool yes = answer && (answer[0] == 'y' || answer[0] == 'Y');
	free(answer);
	return yes;
}

/* getpass(): no echo when stdin is a terminal. */
static char *read_password(const char *prompt)
{
	struct termios old, noecho;
	bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	char *line = ctl_read_line(prompt);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		putchar('\n');
	}
	return line;
}

/* cmd.Cmd.onecmd with supervisorctl's 401 handling. */
static void onecmd(struct ctl *c, const char *input)
{
	while (isspace((unsigned char)*input))
		input++;
	size_t len = strlen(input);
	while (len && isspace((unsigned char)input[len - 1]))
		len--;
	if (!len)
		return;
	char *line = strndup(input, len);
	if (!line) {
		perror("pidvisor ctl");
		exit(EXIT_GENERIC);
	}
	if (line[0] == '?') {
		char *h;
		if (asprintf(&h, "help %s", line + 1) < 0)
			exit(EXIT_GENERIC);
		free(line);
		line = h;
	}
	size_t i = 0;
	while (isalnum((unsigned char)line[i]) || line[i] == '_')
		i++;
	char name[64];
	const char *arg = line + i;
	while (isspace((unsigned char)*arg))
		arg++;
	const struct ctl_action *a = NULL;
	if (i && i < sizeof(name)) {
		memcpy(name, line, i);
		name[i] = '\0';
		a = ctl_find_action(name);
	}
	if (!a) {
		ctl_out("*** Unknown syntax: %s", line);
		c->exitstatus = EXIT_GENERIC;
		free(line);
		return;
	}
	c->auth_required.status = RPC_OK;
	a->run(c, arg);
	if (c->auth_required.status == RPC_HTTP) {
		ctl_out("Server requires authentication");
		if (c->interactive) {
			char *user = ctl_read_line("Username:");
			char *pass = user ? read_password("Password:") : NULL;
			putchar('\n');
			if (user && pass) {
				ctl_replace(&c->username, user);
				ctl_replace(&c->password, pass);
				ctl_disconnect(c);
				free(user);
				free(pass);
				onecmd(c, line);
				free(line);
				return;
			}
			free(user);
			free(pass);
		}
		c->exitstatus = EXIT_GENERIC;
		/* supervisorctl then runs the action once more; it fails the same
		 * way and that is reported as an uncaught ProtocolError */
		c->auth_required.status = RPC_OK;
		a->run(c, arg);
		if (c->auth_required.status == RPC_HTTP)
			ctl_report(c, &c->auth_required);
	}
	free(line);
}

static const struct option_spec {
	char shortopt;
	const char *longopt;
	bool takes_arg;
} options[] = {
    {'h', "help", false},	 {'?', NULL, false},	      {'c', "configuration", true},
    {'i', "interactive", false}, {'s', "serverurl", true},    {'u', "username", true},
    {'p', "password", true},	 {'r', "history_file", true}, {'t', "timeout", true},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* supervisor.datatypes.url: urlparse gives a scheme and a netloc or path. */
static bool is_url(const char *v)
{
	size_t i = 0;
	if (!isalpha((unsigned char)v[0]))
		return false;
	while (isalnum((unsigned char)v[i]) || v[i] == '+' || v[i] == '-' || v[i] == '.')
		i++;
	if (v[i] != ':')
		return false;
	const char *rest = v + i + 1;
	if (strncmp(rest, "//", 2) == 0)
		rest += 2;
	return rest[0] != '\0' && rest[0] != '?' && rest[0] != '#';
}

/* Seconds (0 for none, as in supervisorctl) as milliseconds; -1 with a message in err. */
static int parse_timeout(const char *what, const char *value, struct buf *err)
{
	char *end;
	double s = strtod(value, &end);
	if (end == value || *end || !(s >= 0 && s <= CTL_MAX_TIMEOUT)) {
		buf_printf(err,
			   "invalid value for %s '%s': not a number of seconds from 0 (none) to %d",
			   what, value, CTL_MAX_TIMEOUT);
		return -1;
	}
	int ms = (int)(s * 1000);
	return s > 0 && ms == 0 ? 1 : ms;
}

/* -t/--timeout (a pidvisor extension). */
static enum ctl_cmdline_result set_timeout(struct ctl_cmdline *cl, const char *shown,
					   const char *value, struct buf *err)
{
	if (cl->timeout_ms >= 0) {
		buf_printf(err, "conflicting command line option '%s'", shown);
		return CL_ERROR;
	}
	cl->timeout_ms = parse_timeout(shown, value, err);
	return cl->timeout_ms < 0 ? CL_ERROR : CL_OK;
}

/* cl NULL: getopt's own pass, which only checks that the options exist and have values. */
static enum ctl_cmdline_result set_option(struct ctl_cmdline *cl, const struct option_spec *o,
					  const char *shown, const char *value, struct buf *err)
{
	char **slot = NULL;
	if (!cl)
		return CL_OK;
	switch (o->shortopt) {
	case 'h':
	case '?':
		return CL_HELP;
	case 'c':
		slot = &cl->configfile;
		break;
	case 'i':
		if (cl->interactive_set) {
			buf_printf(err, "conflicting command line option '%s'", shown);
			return CL_ERROR;
		}
		cl->interactive = cl->interactive_set = true;
		return CL_OK;
	case 's':
		if (!is_url(value)) {
			struct buf r;
			buf_init(&r, 0);
			python_repr(&r, value);
			buf_printf(err, "invalid value for %s %s: value %s is not a URL", shown,
				   r.data, r.data);
			buf_free(&r);
			return CL_ERROR;
		}
		slot = &cl->serverurl;
		break;
	case 'u':
		slot = &cl->username;
		break;
	case 'p':
		slot = &cl->password;
		break;
	case 'r':
		slot = &cl->history;
		break;
	case 't':
		return set_timeout(cl, shown, value, err);
	}
	if (*slot) {
		buf_printf(err, "conflicting command line option '%s'", shown);
		return CL_ERROR;
	}
	*slot = strdup(value);
	return CL_OK;
}

/* A long option: exact, or a unique prefix of one. */
static enum ctl_cmdline_result long_option(struct ctl_cmdline *cl, const char *a, int argc,
					   char **argv, int *i, struct buf *err)
{
	char name[256];
	const char *eq = strchr(a + 2, '=');
	size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
	snprintf(name, sizeof(name), "%.*s", (int)nlen, a + 2);
	const struct option_spec *match = NULL;
	int nmatch = 0;
	for (size_t k = 0; k < NOPTIONS; k++) {
		if (!options[k].longopt || strncmp(options[k].longopt, name, nlen) != 0)
			continue;
		if (strlen(options[k].longopt) == nlen) {
			match = &options[k];
			nmatch = 1;
			break;
		}
		match = &options[k];
		nmatch++;
	}
	if (nmatch != 1) {
		buf_printf(err, "option --%s %s", name,
			   nmatch ? "not a unique prefix" : "not recognized");
		return CL_ERROR;
	}
	char shown[64];
	snprintf(shown, sizeof(shown), "--%s", match->longopt);
	const char *value = eq ? eq + 1 : NULL;
	if (match->takes_arg && !value) {
		if (*i >= argc) {
			buf_printf(err, "option --%s requires argument", match->longopt);
			return CL_ERROR;
		}
		value = argv[(*i)++];
	} else if (!match->takes_arg && value) {
		buf_printf(err, "option --%s must not have an argument", match->longopt);
		return CL_ERROR;
	}
	return set_option(cl, match, shown, value ? value : "", err);
}

/* A cluster of short options (-ic FILE, -cFILE). */
static enum ctl_cmdline_result short_options(struct ctl_cmdline *cl, const char *a, int argc,
					     char **argv, int *i, struct buf *err)
{
	for (const char *p = a + 1; *p; p++) {
		const struct option_spec *o = NULL;
		for (size_t k = 0; k < NOPTIONS; k++)
			if (options[k].shortopt == *p)
				o = &options[k];
		if (!o) {
			buf_printf(err, "option -%c not recognized", *p);
			return CL_ERROR;
		}
		char shown[3] = {'-', *p, '\0'};
		if (!o->takes_arg) {
			enum ctl_cmdline_result rc = set_option(cl, o, shown, "", err);
			if (rc != CL_OK)
				return rc;
			continue;
		}
		const char *value = p[1] ? p + 1 : NULL;
		if (!value) {
			if (*i >= argc) {
				buf_printf(err, "option -%c requires argument", *p);
				return CL_ERROR;
			}
			value = argv[(*i)++];
		}
		return set_option(cl, o, shown, value, err);
	}
	return CL_OK;
}

/* One pass over the options: cl NULL checks them as getopt.getopt does, otherwise they take
 * effect in order as supervisorctl's realize() applies them. Returns the index of the first
 * argument after the options, or -1 with *rc set. */
static int options_pass(int argc, char **argv, struct ctl_cmdline *cl, struct buf *err,
			enum ctl_cmdline_result *rc)
{
	int i = 1;
	while (i < argc && argv[i][0] == '-' && argv[i][1]) {
		const char *a = argv[i++];
		if (strcmp(a, "--") == 0)
			break;
		*rc = a[1] == '-' ? long_option(cl, a, argc, argv, &i, err)
				  : short_options(cl, a, argc, argv, &i, err);
		if (*rc != CL_OK)
			return -1;
	}
	*rc = CL_OK;
	return i;
}

/* Stops at the first non-option; long options may be abbreviated to a unique prefix. As in
 * Python, getopt's errors (an unknown option, a missing value) come before any option takes
 * effect; then -h, a bad URL or a repeated option stops at the first one in order. */
enum ctl_cmdline_result ctl_parse_cmdline(int argc, char **argv, struct ctl_cmdline *cl,
					  struct buf *err)
{
	enum ctl_cmdline_result rc;
	memset(cl, 0, sizeof(*cl));
	cl->timeout_ms = -1;
	if (options_pass(argc, argv, NULL, err, &rc) < 0)
		return rc;
	int i = options_pass(argc, argv, cl, err, &rc);
	if (i < 0)
		return rc;
	cl->args = argv + i;
	cl->nargs = argc - i;
	return CL_OK;
}

void ctl_cmdline_free(struct ctl_cmdline *cl)
{
	free(cl->configfile);
	free(cl->serverurl);
	free(cl->username);
	free(cl->password);
	free(cl->history);
	memset(cl, 0, sizeof(*cl));
}

__attribute__((noreturn, format(printf, 2, 3))) static void usage_error(const char *progname,
									const char *fmt, ...)
{
	va_list ap;
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nFor help, use %s -h\n", progname);
	exit(EXIT_INVALID_ARGS);
}

/* Command line over config file over built-in default (ClientOptions). */
static void load_config(struct ctl *c, const char *argv0, const struct ctl_cmdline *cl)
{
	struct client_config cfg;
	char err[8192];
	if (!client_config_load(cl->configfile, argv0, &cfg, err, sizeof(err)))
		usage_error(c->progname, "%s", err);
	ctl_replace(&c->serverurl, cl->serverurl   ? cl->serverurl
				   : cfg.serverurl ? cfg.serverurl
						   : DEFAULT_SERVERURL);
	ctl_replace(&c->username, cl->username ? cl->username : cfg.username);
	ctl_replace(&c->password, cl->password ? cl->password : cfg.password);
	ctl_replace(&c->prompt, cfg.prompt ? cfg.prompt : "supervisor");
	c->timeout_ms = CTL_DEFAULT_TIMEOUT * 1000;
	if (cl->timeout_ms >= 0) {
		c->timeout_ms = cl->timeout_ms;
	} else if (cfg.timeout) {
		struct buf terr;
		buf_init(&terr, 0);
		c->timeout_ms = parse_timeout("[supervisorctl] timeout", cfg.timeout, &terr);
		if (c->timeout_ms < 0)
			usage_error(c->progname, "%s", terr.data ? terr.data : "");
		buf_free(&terr);
	}
	client_config_free(&cfg);
}

static void shell(struct ctl *c)
{
	char prompt[512];
	snprintf(prompt, sizeof(prompt), "%s> ", c->prompt);
	onecmd(c, "status");
	while (!c->quit) {
		char *line = ctl_read_line(prompt);
		onecmd(c, line ? line : "EOF");
		free(line);
		fflush(stdout);
	}
}

int ctl_main(int argc, char **argv)
{
	struct ctl c = {0};
	c.rpc.fd = -1;
	c.progname = strcmp(argv[0], "ctl") == 0 ? "pidvisor ctl" : argv[0];
	struct ctl_cmdline cl;
	struct buf err;
	buf_init(&err, 0);
	switch (ctl_parse_cmdline(argc, argv, &cl, &err)) {
	case CL_HELP:
		ctl_print_usage(stdout, c.progname);
		exit(0);
	case CL_ERROR:
		usage_error(c.progname, "%s", err.data ? err.data : "");
	case CL_OK:
		break;
	}
	buf_free(&err);
	load_config(&c, argv[0], &cl);
	c.interactive = cl.interactive || cl.nargs == 0;
	if (cl.nargs) {
		struct buf line;
		buf_init(&line, 0);
		for (int i = 0; i < cl.nargs; i++)
			buf_printf(&line, "%s%s", i ? " " : "", cl.args[i]);
		onecmd(&c, line.data ? line.data : "");
		buf_free(&line);
	} else {
		shell(&c);
		c.exitstatus = 0; /* supervisorctl's shell always exits 0 */
	}
	fflush(stdout);
	ctl_disconnect(&c);
	free(c.serverurl);
	free(c.username);
	free(c.password);
	free(c.prompt);
	ctl_cmdline_free(&cl);
	return c.exitstatus;
}
