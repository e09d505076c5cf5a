# SPDX-License-Identifier: Apache-2.0
# Integration tests: real processes, real files, emulators. Included from tests/CMakeLists.txt.
edw_integration_test(cli_basics 120)
edw_integration_test(competing_consumers 600)
edw_integration_test(sigkill_recovery 600)
edw_integration_test(sigterm_release 300)
edw_integration_test(poison 300)
edw_integration_test(image_oci 300)
edw_integration_test(k8s_manifests 300)
edw_integration_test(deploy_dry_run 300)
edw_integration_test(demo 300)
edw_integration_test(demo_crash 300)
edw_integration_test(bad_input 120)
edw_integration_test(chaos_sqlite 600)
