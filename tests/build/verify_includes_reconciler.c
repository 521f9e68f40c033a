/*
 * Compiled as a verify/ source would be (the include path of
 * libtollgate-verify). It includes a reconciler header, so it must NOT
 * compile: the test build.verify_boundary checks that the compiler says the
 * header does not exist (DESIGN.md 2: verify/ never sees the reconciler).
 */
#include "tollgate/yaml.h"
#include "tollgate/kube.h"

int tg_boundary_probe(void);
int tg_boundary_probe(void)
{
	return 0;
}
