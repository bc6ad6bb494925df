/* Client side of supervisord's control protocol: XML-RPC over HTTP/1.1 on a
 * unix or TCP socket, one keep-alive connection reused across calls, plus the
 * streaming GET that `tail -f` uses. Each call waits in ppoll() under one
 * deadline: this is for short-lived command-line tools, not for the daemon's loop. */
#ifndef PIDVISOR_RPC_CLIENT_H
#define PIDVISOR_RPC_CLIENT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "xmlrpc.h"

enum rpc_status {
	RPC_OK,	      /* result.value holds the answer */
	RPC_FAULT,    /* result.fault_code / fault_string */
	RPC_CONNECT,  /* could not connect: sys_errno (ENOENT, ECONNREFUSED...) */
	RPC_HTTP,     /* non-200 answer: http_status, reason */
	RPC_PROTOCOL, /* I/O error, malformed HTTP or XML: message */
	RPC_TIMEOUT,  /* timeout_ms passed: message says while doing what */
};

/* What timeout_ms bounds. Connecting and sending always count. */
enum rpc_wait {
	RPC_WAIT_DEADLINE, /* and the whole reply: one deadline for the call */
	RPC_WAIT_REPLY,	   /* not the wait for the reply to start (startProcess waits for
			    * startsecs), but the reply once started must end in time */
	RPC_WAIT_STREAM,   /* and the reply head; the body is open-ended (tail -f) */
};

struct rpc_result {
	enum rpc_status status;
	struct xr_value *value;
	int fault_code;
	char *fault_string;
	int sys_errno;
	int http_status;
	char reason[64];
	char message[160];
};

struct rpc_client {
	char url[PATH_MAX + 16];
	bool is_unix;
	char path[108]; /* sun_path */
	char host[256];
	char port[8];
	char host_header[256];
	struct buf auth;   /* "Basic ..." or empty */
	int timeout_ms;	   /* one call's deadline (see rpc_wait); 0 = none, as supervisorctl */
	int fd;		   /* -1 when not connected */
	bool connected_ok; /* the current connection already carried a reply */
};

/* Parses unix:///path or http://host[:port][/...]; false with a message in
 * err for other schemes (the caller prints supervisorctl's text). Username
 * and password may be NULL; auth is sent only when both are set. */
bool rpc_client_init(struct rpc_client *c, const char *url, const char *username,
		     const char *password, char *err, size_t errsize);
void rpc_client_close(struct rpc_client *c);
/* One call; reconnects when the server closed the previous connection. */
enum rpc_status rpc_call(struct rpc_client *c, const char *method,
			 const struct xr_value *const *params, size_t nparams,
			 struct rpc_result *out);
/* rpc_call with its own rpc_wait (rpc_call is RPC_WAIT_DEADLINE). */
enum rpc_status rpc_call_wait(struct rpc_client *c, const char *method,
			      const struct xr_value *const *params, size_t nparams,
			      enum rpc_wait how, struct rpc_result *out);
/* Convenience for calls whose parameters are all strings (NULL-terminated). */
enum rpc_status rpc_call_strings(struct rpc_client *c, const char *method, struct rpc_result *out,
				 ...) __attribute__((sentinel));
void rpc_result_free(struct rpc_result *r);

/* GET path and pass the decoded body of a 200 answer to fn as it arrives,
 * until the server closes, an error, or *stop becomes non-zero. With
 * wait_mask, every wait is a ppoll() under that signal mask and *stop is
 * checked before each one, so a caller that keeps its stop signal blocked
 * and unblocks it only in wait_mask cannot lose it. timeout_ms bounds the
 * connect and the reply head (RPC_WAIT_STREAM). Returns like rpc_call
 * (RPC_OK when the body ended or *stop was set). */
enum rpc_status rpc_stream(struct rpc_client *c, const char *path, http_body_fn fn, void *ctx,
			   const volatile sig_atomic_t *stop, const sigset_t *wait_mask,
			   struct rpc_result *out);

#endif
