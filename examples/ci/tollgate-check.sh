#!/usr/bin/env bash
# A CI step for pull requests on the deploy repository: run the checks the
# agent will run, offline, before the change is merged, so a unit that
# would be blocked is refused in review and not minutes after the merge.
#
#   TOLLGATE_POLICY   the security team's policy (not from this repository;
#                     fetch it from where they publish it)
#   DEPLOY_DIR        the tree the agent reads (source.path), default
#                     clusters/prod
#   CHECK_IMAGES=1    also verify every image against the registries (needs
#                     network and, for private registries, REGISTRY_CONFIG:
#                     a docker config.json)
#
# Exit: 0 nothing would be blocked; 3 a unit would be blocked (its reasons
# are printed and written to tollgate-check.json for the review comment);
# 1 tollgate could not check (bad policy, unreadable tree, registry down);
# 2 a usage error in this script.
#
# GitHub Actions:
#   - run: examples/ci/tollgate-check.sh
#     env: {TOLLGATE_POLICY: policy/policy.yaml, DEPLOY_DIR: clusters/prod}
# GitLab CI:
#   tollgate-check:
#     script: [examples/ci/tollgate-check.sh]
#     artifacts: {when: always, paths: [tollgate-check.json]}
set -u

policy=${TOLLGATE_POLICY:?set TOLLGATE_POLICY to the policy file}
dir=${DEPLOY_DIR:-clusters/prod}
tollgate=${TOLLGATE:-tollgate}
args=(check --policy "$policy")
if [ "${CHECK_IMAGES:-0}" = 1 ]; then
	args+=(--images)
	[ -n "${REGISTRY_CONFIG:-}" ] && args+=(--registry-config "$REGISTRY_CONFIG")
fi

# The JSON verdicts for tools (a review bot, an artifact), the text for
# people reading the job log; both from one run of the same checks.
"$tollgate" "${args[@]}" --output json "$dir" > tollgate-check.json
rc=$?
case $rc in
0) echo "tollgate check: every unit of $dir would be applied" ;;
3)
	"$tollgate" "${args[@]}" --output text "$dir" | grep -v ': pass$'
	echo "tollgate check: a unit of $dir would be blocked (see above)" >&2
	;;
*) echo "tollgate check: could not check $dir (exit $rc)" >&2 ;;
esac
exit $rc
