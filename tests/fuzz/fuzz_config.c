/* libFuzzer target: the whole config loader (config_load: the INI reader, [include], %(name)s,
 * every key's parser, the model and its checks), lenient and strict (--check-config).
 * The input is the text of main.conf; after a NUL byte, the text of inc.conf next to it, which
 * main.conf reaches with [include] files=inc.conf (or a glob). */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz_config.XXXXXX";
static char main_path[64], inc_path[64];

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
	}
	close(fd);
}

static void remove_dir(void)
{
	unlink(main_path);
	unlink(inc_path);
	rmdir(dir);
}

/* A load: NULL exactly when it reported an error. */
static bool load(bool strict)
{
	struct config_overrides ov = {.strict = strict};
	struct diag d = {0};
	struct config *c = config_load(main_path, &ov, &d);
	bool ok = c != NULL;
	if (ok == (d.errors > 0))
		__builtin_trap();
	config_free(c);
	diag_free(&d);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!main_path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
		snprintf(inc_path, sizeof(inc_path), "%s/inc.conf", dir);
		atexit(remove_dir);
	}
	const uint8_t *nul = memchr(data, '\0', size);
	size_t main_len = nul ? (size_t)(nul - data) : size;
	write_file(main_path, data, main_len);
	if (nul)
		write_file(inc_path, nul + 1, size - main_len - 1);
	else
		unlink(inc_path);

	bool lenient = load(false);
	/* --check-config refuses all the daemon refuses, and more */
	if (load(true) && !lenient)
		__builtin_trap();
	return 0;
}
