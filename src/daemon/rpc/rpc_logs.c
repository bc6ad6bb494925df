/* Log reads over RPC: readLog, readProcess*Log, tailProcess*Log and the clear* calls, from a log
 * file or a program's in-memory tail. Offsets and lengths come from the client as any int64:
 * every window is computed without overflow and read in at most RPC_READ_MAX bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child_output.h"
#include "mainlog.h"
#include "rpc_internal.h"
#include "utf8.h"

/* supervisord's readFile() window over size bytes: false for its BAD_ARGUMENTS (a negative
 * offset with a length, a negative length). A negative offset counts from the end. */
static bool read_window(long long size, long long offset, long long length, long long *pos,
			long long *want)
{
	if ((offset < 0 && length) || length < 0)
		return false;
	if (offset < 0)
		*pos = offset < -size ? 0 : size + offset;
	else
		*pos = offset < size ? offset : size;
	*want = size - *pos;
	if (length && length < *want)
		*want = length;
	if (*want > RPC_READ_MAX)
		*want = RPC_READ_MAX;
	return true;
}

/* supervisord's tailFile() window, in 128-bit arithmetic so offset + length cannot overflow;
 * the result is then clamped inside the file. */
static bool tail_window(long long size, long long offset, long long length, long long *pos,
			long long *want)
{
	__int128 sz = size, off = offset, len = length;
	bool overflow = false;
	if (sz > off + len) {
		overflow = true;
		off = sz - 1;
	}
	if (off + len > sz) {
		if (off > sz - 1)
			len = 0;
		off = sz - len;
	}
	if (off < 0)
		off = 0;
	if (off > sz)
		off = sz;
	if (len < 0)
		len = 0;
	if (len > sz - off)
		len = sz - off;
	if (len > RPC_READ_MAX)
		len = RPC_READ_MAX;
	*pos = (long long)off;
	*want = (long long)len;
	return overflow;
}

/* want bytes at pos, from the file or (path NULL) the program's tail, as an XML-RPC string that
 * never splits a UTF-8 character: continuation bytes at the start (the rest of a character that
 * began before pos) are skipped, and a character cut at the end is left for the next read. *end
 * is where the answer stops, the offset to read on from. */
static struct xr_value *read_bytes(const char *path, const struct process *p, int channel,
				   long long pos, long long want, long long *end)
{
	char *buf = malloc((size_t)want + 1);
	ssize_t got = 0;
	if (!buf)
		return NULL;
	if (!path) {
		got = (ssize_t)output_tail_read(p, channel, (unsigned long long)pos, (size_t)want,
						buf);
	} else if (want) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			got = pread(fd, buf, (size_t)want, (off_t)pos);
			close(fd);
		}
	}
	size_t len = got > 0 ? (size_t)got : 0, skip = 0;
	while (pos > 0 && skip < len && skip < 3 && ((unsigned char)buf[skip] & 0xC0) == 0x80)
		skip++;
	len -= skip + utf8_cut(buf + skip, len - skip);
	*end = pos + (long long)(skip + len);
	struct xr_value *v = xr_string_len(buf + skip, len);
	free(buf);
	return v;
}

/* supervisord's readFile() over a file (path) or a program's tail (path NULL). */
static void read_log(const char *path, const struct process *p, int channel, long long offset,
		     long long length, struct rpc_answer *out)
{
	struct stat st;
	long long pos, want;
	if (path && stat(path, &st) < 0) {
		rpc_fault(out, XR_FAILED, NULL);
		return;
	}
	long long size = path ? (long long)st.st_size : (long long)output_tail_size(p, channel);
	if (!read_window(size, offset, length, &pos, &want)) {
		rpc_fault(out, XR_BAD_ARGUMENTS, NULL);
		return;
	}
	out->value = read_bytes(path, p, channel, pos, want, &pos);
}

void rpc_read_main_log(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *path = log_path();
	if (!path || access(path, F_OK) < 0) {
		rpc_fault(out, XR_NO_FILE, path); /* "NO_FILE" alone without a log file */
		return;
	}
	read_log(path, NULL, 0, a->v[0].num, a->v[1].num, out);
}

void rpc_clear_main_log(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *path = log_path();
	if (!path || access(path, F_OK) < 0) {
		rpc_fault(out, XR_NO_FILE, NULL);
		return;
	}
	if (truncate(path, 0) < 0) {
		rpc_fault(out, XR_FAILED, strerror(errno));
		return;
	}
	log_reopen();
	out->value = xr_bool(true);
}

static void read_process_log(struct rpc_server *rs, const struct args *a, int channel,
			     struct rpc_answer *out)
{
	struct process *p = rpc_one_process(rs, a->v[0].str, out);
	if (!p)
		return;
	const char *path = output_logfile(p, channel);
	if (!path && output_has_tail(p, channel)) {
		read_log(NULL, p, channel, a->v[1].num, a->v[2].num, out);
		return;
	}
	if (!path || access(path, F_OK) < 0) {
		rpc_fault(out, XR_NO_FILE, path); /* the file, as supervisord names it */
		return;
	}
	read_log(path, p, channel, a->v[1].num, a->v[2].num, out);
}

void rpc_read_stdout(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	read_process_log(rs, a, 1, out);
}

void rpc_read_stderr(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	read_process_log(rs, a, 2, out);
}

/* supervisord's tailFile(): [bytes, the size as the next offset, overflow]. */
static void tail_process_log(struct rpc_server *rs, const struct args *a, int channel,
			     struct rpc_answer *out)
{
	struct process *p = rpc_one_process(rs, a->v[0].str, out);
	if (!p)
		return;
	const char *path = output_logfile(p, channel);
	struct stat st;
	out->value = xr_array();
	if (!path && output_has_tail(p, channel)) {
		st.st_size = (off_t)output_tail_size(p, channel);
	} else if (!path || stat(path, &st) < 0) {
		xr_array_add(out->value, xr_string(""));
		xr_array_add(out->value, xr_int(0));
		xr_array_add(out->value, xr_bool(false));
		return;
	}
	long long pos, want;
	bool overflow = tail_window(st.st_size, a->v[1].num, a->v[2].num, &pos, &want);
	long long end;
	xr_array_add(out->value, read_bytes(path, p, channel, pos, want, &end));
	/* the size, as supervisord answers; less a character still being written, which the
	 * next call then reads whole */
	bool cut = pos + want == (long long)st.st_size && end < pos + want;
	xr_array_add(out->value, xr_int(cut ? end : (long long)st.st_size));
	xr_array_add(out->value, xr_bool(overflow));
}

void rpc_tail_stdout(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	tail_process_log(rs, a, 1, out);
}

void rpc_tail_stderr(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	tail_process_log(rs, a, 2, out);
}

static void clear_one(struct process *p)
{
	for (int ch = 1; ch <= 2; ch++) {
		output_tail_clear(p, ch);
		const char *path = output_logfile(p, ch);
		if (path && truncate(path, 0) == 0)
			output_reopen(p);
	}
}

void rpc_clear_process_logs(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct process *p = rpc_one_process(rs, a->v[0].str, out);
	if (!p)
		return;
	clear_one(p);
	out->value = xr_bool(true);
}

void rpc_clear_all_logs(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	size_t n;
	struct process **ps = rpc_collect(rs, NULL, &n, out);
	if (!ps)
		return;
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++) {
		clear_one(ps[i]);
		xr_array_add(arr, rpc_result_struct(ps[i], XR_SUCCESS, "OK"));
	}
	free(ps);
	out->value = arr;
}
