/* libFuzzer target: stack files (libyaml's document, the schema walk and its messages), then
 * what every command does with a loaded stack: resolve, lint, order and the generated text. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "generate.h"
#include "lint.h"
#include "plan.h"
#include "stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void generate_all(const struct stack *st)
{
	for (size_t i = 0; i < st->n; i++) {
		char *texts[] = {generate_dockerfile(st, i, "reg.example/"),
				 generate_layer_conf(st, i),
				 st->images[i].parent < 0 ? generate_main_conf(st, i) : NULL};
		for (size_t k = 0; k < 3; k++)
			free(texts[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stack st;
	struct diag d = {0};
	int rc = stack_load_string(&st, "fuzz/stack.yaml", (const char *)data, size, &d);
	if (rc >= 0) {
		int errors = plan_resolve(&st, &d);
		lint_stack(&st, &d);
		size_t *order, n;
		if (plan_order(&st, NULL, 0, &order, &n, &d) != 0 || n != st.n)
			__builtin_trap(); /* every image once */
		if (rc == 0 && errors == 0) {
			bool *done = calloc(st.n + 1, sizeof(*done));
			for (size_t k = 0; k < n; k++) {
				int parent = st.images[order[k]].parent;
				if (parent >= 0 && !done[parent])
					__builtin_trap(); /* parents first */
				done[order[k]] = true;
			}
			free(done);
			generate_all(&st);
		}
		free(order);
	}
	for (size_t i = 0; i < d.n; i++)
		if (strncmp(d.items[i].text, "fuzz/stack.yaml", 15) != 0)
			__builtin_trap(); /* every message names the file */
	diag_free(&d);
	stack_free(&st);
	return 0;
}
