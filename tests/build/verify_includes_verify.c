/*
 * The control for build.verify_boundary: the same include path reaches
 * the verify library's own public headers, so the probe above fails for
 * the reconciler header alone.
 */
#include "tollgate/policy.h"
#include "tollgate/yaml.h"

int tg_boundary_control(void);
int tg_boundary_control(void)
{
	return 0;
}
