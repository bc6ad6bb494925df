/* libFuzzer target: supervisord's INI dialect (inih behind our logical-line reader) and the
 * %(name)s expansion of every value read. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "expand.h"
#include "inifile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini_doc doc = {0};
	struct diag d = {0};
	char *const env[] = {"HOME=/root", "X=1", NULL};
	struct expand_ctx ctx = {.here = "/etc",
				 .program_name = "p",
				 .group_name = "g",
				 .host_node_name = "h",
				 .has_process_num = true,
				 .process_num = 3,
				 .numprocs = 4,
				 .env = env};

	ini_load_string(&doc, "fuzz.conf", (const char *)data, size, &d);
	for (size_t i = 0; i < doc.n; i++)
		for (size_t j = 0; j < doc.sections[i].n; j++) {
			char *out = NULL, *err = NULL;
			expand(doc.sections[i].entries[j].value, &ctx, &out, &err);
			free(out);
			free(err);
		}
	ini_free(&doc);
	diag_free(&d);
	return 0;
}
