/* libFuzzer target: the control server's connections, driven end to end through a real unix
 * socket and the real event loop. The input is a sequence of events for up to four clients:
 * send raw bytes or a whole canned request (pipelined as they come), shut the write side,
 * read part of what is queued (partial writes on the server side), close and reconnect, and
 * run the loop. Every byte a client reads must parse as a sequence of HTTP responses.
 * Each input gets a fresh supervisor and control server on the same loop. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "diag.h"
#include "http.h"
#include "mainlog.h"
#include "supervisor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCLIENTS 4

static char dir[64], conf_path[128], sock_path[128];
static struct ev_loop *loop;

#define CALL(method, params)                                                                       \
	"<?xml version='1.0'?><methodCall><methodName>supervisor." method                          \
	"</methodName><params>" params "</params></methodCall>"
#define P_STR(s)  "<param><value><string>" s "</string></value></param>"
#define P_INT(i)  "<param><value><int>" i "</int></value></param>"
#define P_BOOL(b) "<param><value><boolean>" b "</boolean></value></param>"

/* XML-RPC bodies, sent as POST /RPC2 with their Content-Length */
static const char *const calls[] = {
    CALL("getAPIVersion", ""),
    CALL("getAllProcessInfo", ""),
    CALL("readLog", P_INT("0") P_INT("300000")), /* big: written in parts as the client reads */
    CALL("stopProcess", P_STR("prog") P_BOOL("1")),
    CALL("removeProcessGroup", P_STR("prog")),
    CALL("addProcessGroup", P_STR("prog")),
};

/* other whole requests */
static const char *const others[] = {
    "GET /logtail/prog HTTP/1.1\r\n\r\n",
    "GET /mainlogtail HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<?xml\r\n0\r\n\r\n",
    "POST /RPC2 HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    "BREW /pot HTTP/1.1\r\n\r\n",
    "\r\n",
    /* refused before anything is done: another site's page, or not text/xml */
    "POST /RPC2 HTTP/1.1\r\nOrigin: null\r\nContent-Type: text/xml\r\nContent-Length: 1\r\n\r\n<",
    "POST /RPC2 HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n<?xml",
    "GET /?processname=prog&action=start HTTP/1.1\r\nSec-Fetch-Site: same-site\r\n\r\n",
};

#define NCALLS	(sizeof(calls) / sizeof(calls[0]))
#define NOTHERS (sizeof(others) / sizeof(others[0]))
static char *requests[NCALLS + NOTHERS];

struct client {
	int fd;
	struct http_parser resp; /* what the server sent, checked as it is read */
	bool eof;
};

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fuzz_http_conn.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(conf_path, sizeof(conf_path), "%s/c.conf", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", dir);
	FILE *f = fopen(conf_path, "w");
	if (!f)
		abort();
	fprintf(f,
		"[supervisord]\nlogfile=%s/main.log\nloglevel=critical\nnocleanup=true\n"
		"childlogdir=%s\n[unix_http_server]\nfile=%s\nmax_connections=3\n"
		"max_queued_bytes=4096\nmax_header_bytes=2048\nmax_request_bytes=4096\n"
		"[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
		"supervisor.rpcinterface:make_main_rpcinterface\n"
		"[program:prog]\ncommand=/bin/true\nautostart=false\nstdout_logfile=%s/prog.log\n"
		/* never removed: getAllProcessInfo with no process at all is rpc.c's to fix */
		"[program:keep]\ncommand=/bin/true\nautostart=false\n",
		dir, dir, sock_path, dir);
	fclose(f);
	/* a main log and a program log worth reading in parts */
	char path[160];
	snprintf(path, sizeof(path), "%s/main.log", dir);
	f = fopen(path, "w");
	for (int i = 0; f && i < 6000; i++)
		fprintf(f, "%05d a line of the main log, long enough to fill a socket buffer\n", i);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/prog.log", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("prog said something\n", f);
		fclose(f);
	}
	for (size_t i = 0; i < NCALLS + NOTHERS; i++) {
		if (i >= NCALLS) {
			requests[i] = strdup(others[i - NCALLS]);
			continue;
		}
		size_t n = strlen(calls[i]) + 128;
		requests[i] = malloc(n);
		snprintf(requests[i], n,
			 "POST /RPC2 HTTP/1.1\r\nContent-Type: text/xml\r\nContent-Length: "
			 "%zu\r\n\r\n%s",
			 strlen(calls[i]), calls[i]);
	}
	struct diag d = {0};
	struct config *cfg = config_load(conf_path, NULL, &d);
	char *err = NULL;
	if (!cfg || log_open(&cfg->sd, false, &err) < 0)
		abort();
	diag_free(&d);
	config_free(cfg);
	loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_SIGNALFD | EVFLAG_NOENV);
}

static void client_open(struct client *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(c->fd);
		c->fd = -1;
	}
	http_parser_init(&c->resp, HTTP_RESPONSE, NULL);
	c->resp.lim.max_body = 1 << 20;
	c->eof = false;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	http_parser_free(&c->resp);
}

/* The server's bytes must be whole, well-formed responses, one after another. */
static void client_read(struct client *c, size_t max)
{
	char buf[8192];
	if (c->fd < 0 || c->eof)
		return;
	if (max > sizeof(buf))
		max = sizeof(buf);
	ssize_t r = recv(c->fd, buf, max, 0);
	if (r == 0)
		c->eof = true;
	if (r <= 0)
		return;
	size_t off = 0;
	while (off < (size_t)r) {
		size_t used;
		enum http_result res =
		    http_parser_feed(&c->resp, buf + off, (size_t)r - off, &used);
		off += used;
		if (res == HTTP_ERROR) {
			/* only a body too large for our check is not the server's fault */
			if (c->resp.error_status == 413)
				return;
			fprintf(stderr, "bad response from the server: %s\n", c->resp.error_msg);
			__builtin_trap();
		}
		if (res != HTTP_DONE)
			break;
		http_parser_reset(&c->resp);
	}
}

static void run_loop(int times)
{
	for (int i = 0; i < times; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!loop)
		setup();
	struct diag d = {0};
	struct config *cfg = config_load(conf_path, NULL, &d);
	diag_free(&d);
	if (!cfg)
		abort();
	struct supervisor sv = {.config_path = conf_path};
	char *err = NULL;
	if (supervisor_init(&sv, loop, cfg) < 0 || control_start(&sv, &err) < 0)
		abort();
	struct client cl[NCLIENTS];
	for (int i = 0; i < NCLIENTS; i++)
		client_open(&cl[i]);

	size_t off = 0;
	while (off + 2 <= size) {
		uint8_t op = data[off], arg = data[off + 1];
		struct client *c = &cl[op >> 6];
		off += 2;
		switch (op & 7) {
		case 0: { /* raw bytes from the input */
			size_t n = arg % 64 + 1;
			if (n > size - off)
				n = size - off;
			if (c->fd >= 0)
				(void)send(c->fd, data + off, n, MSG_NOSIGNAL);
			off += n;
			break;
		}
		case 1: { /* a whole canned request, or only its first part */
			const char *r = requests[(arg & 0x7f) % (NCALLS + NOTHERS)];
			size_t n = strlen(r);
			if (arg & 0x80)
				n = n * (arg & 0x0f) / 16;
			if (c->fd >= 0)
				(void)send(c->fd, r, n, MSG_NOSIGNAL);
			break;
		}
		case 2:
			if (c->fd >= 0)
				shutdown(c->fd, SHUT_WR);
			break;
		case 3:
			client_read(c, (size_t)arg * 64 + 1);
			break;
		case 4:
			client_close(c);
			client_open(c);
			break;
		default:
			run_loop(arg % 4 + 1);
			break;
		}
	}
	/* drain: every client reads what it can, then the server tears down */
	for (int round = 0; round < 8; round++) {
		run_loop(2);
		for (int i = 0; i < NCLIENTS; i++)
			client_read(&cl[i], 8192);
	}
	for (int i = 0; i < NCLIENTS; i++)
		client_close(&cl[i]);
	run_loop(2);
	control_stop(&sv);
	supervisor_free(&sv);
	config_free(sv.cfg);
	return 0;
}
