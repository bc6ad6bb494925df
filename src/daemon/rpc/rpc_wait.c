/* start/stop over one process, a group or all, and the pending operation that waits until they
 * are done (wait=true): supervisord's make_allfunc and its deferred callbacks. */
#include <stdio.h>
#include <stdlib.h>

#include "deps.h"
#include "rpc_internal.h"
#include "util.h"

enum op_kind { OP_START, OP_STOP };
enum op_state { OP_WAIT, OP_OK, OP_FAULT };

struct op {
	struct process *p; /* NULL once forgotten */
	char name[512];	   /* namespec as the caller named it, for fault texts */
	enum op_kind kind;
	enum op_state st;
	int code;
	/* supervisord lists immediate results first, then those it waited for; each in process
	 * order (they finish in the same loop pass) */
	unsigned done;
	size_t index;
};

/* The pending of a start or stop that waits. */
struct waiting {
	struct rpc_pending pending;
	bool list; /* answer an array of result structs, not a bare true */
	unsigned finished;
	struct op *ops;
	size_t n;
};

static void op_start(struct rpc_server *rs, struct op *op, bool wait)
{
	struct process *p = op->p;
	if (p->fsm.state == PS_UNKNOWN) {
		op->st = OP_FAULT;
		op->code = XR_FAILED;
		return;
	}
	if (proc_state_running(p->fsm.state)) {
		op->st = OP_FAULT;
		op->code = XR_ALREADY_STARTED;
		return;
	}
	deps_start(rs->sv, p, 0);
	if (p->fsm.spawnerr[0]) {
		op->st = OP_FAULT;
		op->code = XR_SPAWN_ERROR;
		return;
	}
	op->st = wait && p->fsm.state != PS_RUNNING ? OP_WAIT : OP_OK;
}

static void op_stop(struct rpc_server *rs, struct op *op, bool wait)
{
	struct process *p = op->p;
	if (!proc_state_running(p->fsm.state)) {
		op->st = OP_FAULT;
		op->code = XR_NOT_RUNNING;
		return;
	}
	supervisor_stop_process(rs->sv, p);
	if (p->fsm.state == PS_UNKNOWN) {
		op->st = OP_FAULT;
		op->code = XR_FAILED;
		return;
	}
	op->st = wait && !proc_state_stopped(p->fsm.state) ? OP_WAIT : OP_OK;
}

static void op_poll(struct op *op)
{
	if (op->st != OP_WAIT)
		return;
	struct process *p = op->p;
	if (!p) {
		op->st = op->kind == OP_STOP ? OP_OK : OP_FAULT;
		op->code = XR_ABNORMAL_TERMINATION;
		return;
	}
	if (op->kind == OP_STOP) {
		if (proc_state_stopped(p->fsm.state))
			op->st = OP_OK;
		return;
	}
	if (p->fsm.spawnerr[0]) {
		op->st = OP_FAULT;
		op->code = XR_SPAWN_ERROR;
	} else if (p->start_when_ready && p->fsm.state == PS_STOPPED) {
		/* waiting for depends_on; a FATAL dependency ends the wait */
		if (deps_failed(p)) {
			p->start_when_ready = false;
			op->st = OP_FAULT;
			op->code = XR_ABNORMAL_TERMINATION;
		}
	} else if (p->fsm.state == PS_RUNNING) {
		op->st = OP_OK;
	} else if (p->fsm.state != PS_STARTING) {
		op->st = OP_FAULT;
		op->code = XR_ABNORMAL_TERMINATION;
	}
}

static int cmp_done(const void *x, const void *y)
{
	const struct op *a = x, *b = y;
	if (a->done != b->done)
		return a->done < b->done ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static void answer(struct waiting *pd, struct rpc_answer *out)
{
	if (pd->n)
		qsort(pd->ops, pd->n, sizeof(*pd->ops), cmp_done);
	if (!pd->list) {
		struct op *op = &pd->ops[0];
		if (op->st == OP_OK)
			out->value = xr_bool(true);
		else
			rpc_fault(out, op->code, op->name);
		return;
	}
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < pd->n; i++) {
		struct op *op = &pd->ops[i];
		struct rpc_answer text;
		if (op->st == OP_OK)
			snprintf(text.fault_text, sizeof(text.fault_text), "OK");
		else
			rpc_fault(&text, op->code, op->name);
		xr_array_add(arr, rpc_result_struct(op->p, op->st == OP_OK ? XR_SUCCESS : op->code,
						    text.fault_text));
	}
	out->value = arr;
}

/* Finishes a pending when every op is done; false while waiting. */
static bool pending_finish(struct waiting *pd, struct rpc_answer *out)
{
	bool waiting = false;
	for (size_t i = 0; i < pd->n; i++) {
		op_poll(&pd->ops[i]);
		if (pd->ops[i].st == OP_WAIT)
			waiting = true;
		else if (!pd->ops[i].done)
			pd->ops[i].done = pd->finished ? 2 : 1;
	}
	pd->finished = 1;
	if (waiting)
		return false;
	answer(pd, out);
	return true;
}

static bool waiting_poll(struct rpc_server *rs, struct rpc_pending *pending, struct rpc_answer *out)
{
	return pending_finish(container_of(pending, struct waiting, pending), out);
}

static void waiting_forget(struct rpc_pending *pending, const struct process *p)
{
	struct waiting *pd = container_of(pending, struct waiting, pending);
	for (size_t i = 0; i < pd->n; i++)
		if (pd->ops[i].p == p)
			pd->ops[i].p = NULL;
}

static void waiting_free(struct rpc_pending *pending)
{
	struct waiting *pd = container_of(pending, struct waiting, pending);
	free(pd->ops);
	free(pd);
}

static const struct rpc_pending_kind waiting_kind = {waiting_poll, waiting_forget, waiting_free};

static void settle(struct waiting *pd, struct rpc_answer *out)
{
	if (pending_finish(pd, out))
		waiting_free(&pd->pending);
	else
		out->pending = &pd->pending;
}

/* Room for n ops, or NULL with the fault set. */
static struct waiting *pending_new(bool list, size_t n, struct rpc_answer *out)
{
	struct waiting *pd = calloc(1, sizeof(*pd));
	if (pd)
		pd->ops = calloc(n ? n : 1, sizeof(*pd->ops));
	if (!pd || !pd->ops) {
		free(pd);
		rpc_fault(out, XR_FAILED, "out of memory");
		return NULL;
	}
	pd->pending.kind = &waiting_kind;
	pd->list = list;
	return pd;
}

static struct op *pending_add(struct waiting *pd, struct process *p, enum op_kind kind,
			      const char *name)
{
	struct op *op = &pd->ops[pd->n++];
	op->p = p;
	op->kind = kind;
	if (name)
		snprintf(op->name, sizeof(op->name), "%s", name);
	else
		process_namespec(p, op->name, sizeof(op->name));
	op->index = pd->n - 1;
	return op;
}

/* supervisord's RPC stops in ascending priority too (it signals all at once). */
static void many(struct rpc_server *rs, struct pgroup *only, enum op_kind kind, bool wait,
		 struct rpc_answer *out)
{
	size_t n;
	struct process **ps = rpc_collect(rs, only, &n, out);
	struct waiting *pd = ps ? pending_new(true, n, out) : NULL;
	if (!pd) {
		free(ps);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool running = proc_state_running(ps[i]->fsm.state);
		if (kind == OP_START && !running)
			op_start(rs, pending_add(pd, ps[i], OP_START, NULL), wait);
		else if (kind == OP_STOP && running)
			op_stop(rs, pending_add(pd, ps[i], OP_STOP, NULL), wait);
	}
	free(ps);
	settle(pd, out);
}

static void one(struct rpc_server *rs, struct process *p, enum op_kind kind, const char *name,
		bool wait, struct rpc_answer *out)
{
	struct waiting *pd = pending_new(false, 1, out);
	if (!pd)
		return;
	struct op *op = pending_add(pd, p, kind, name);
	if (kind == OP_START)
		op_start(rs, op, wait);
	else
		op_stop(rs, op, wait);
	settle(pd, out);
}

void rpc_start(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = a->v[0].str;
	struct pgroup *g;
	struct process *p;
	if (rpc_shutting_down(rs, out) || !rpc_lookup(rs, name, &g, &p, out))
		return;
	if (!p) {
		many(rs, g, OP_START, a->v[1].flag, out);
		return;
	}
	/* supervisord checks the command before trying, to fail fast */
	char *err = NULL;
	enum spawn_err why = process_check_command(p, &err);
	if (why != SPAWN_OK) {
		rpc_fault(out, why == SPAWN_ERR_NO_FILE ? XR_NO_FILE : XR_NOT_EXECUTABLE, err);
		free(err);
		return;
	}
	one(rs, p, OP_START, name, a->v[1].flag, out);
}

void rpc_stop(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = a->v[0].str;
	struct pgroup *g;
	struct process *p;
	if (rpc_shutting_down(rs, out) || !rpc_lookup(rs, name, &g, &p, out))
		return;
	if (!p)
		many(rs, g, OP_STOP, a->v[1].flag, out);
	else
		one(rs, p, OP_STOP, name, a->v[1].flag, out);
}

void rpc_start_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct pgroup *g = rpc_group(rs, a->v[0].str, out);
	if (g)
		many(rs, g, OP_START, a->v[1].flag, out);
}

void rpc_stop_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct pgroup *g = rpc_group(rs, a->v[0].str, out);
	if (g)
		many(rs, g, OP_STOP, a->v[1].flag, out);
}

void rpc_start_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (!rpc_shutting_down(rs, out))
		many(rs, NULL, OP_START, a->v[0].flag, out);
}

void rpc_stop_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (!rpc_shutting_down(rs, out))
		many(rs, NULL, OP_STOP, a->v[0].flag, out);
}
