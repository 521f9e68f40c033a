/* kubeconfig files: tg_kube_target_from_kubeconfig_data (the bytes form
 * of what cluster.kubeconfig loads), for the current context and for a
 * named one, with insecure-skip-tls-verify refused and allowed. Paths in
 * the input resolve against a directory that does not exist. */
#include "fuzz.h"
#include "tollgate/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const contexts[] = { NULL, "kind-test" };
	tg_kube_target *t = NULL;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (tg_kube_target_from_kubeconfig_data(
		            &t, "/nonexistent/tollgate-fuzz/kubeconfig",
		            (const char *)data, size, contexts[i], i == 1) == 0)
			tg_kube_target_free(t);
		t = NULL;
	}
	return 0;
}
