# SPDX-License-Identifier: Apache-2.0
# Integration tests: real processes, real files, emulators. Included from tests/CMakeLists.txt.
edw_integration_test(cli_basics 120)
edw_integration_test(competing_consumers 600)
edw_integration_test(sigkill_recovery 600)
edw_integration_test(sigterm_release 300)
edw_integration_test(poison 300)
edw_integration_test(azure_e2e 180)
edw_integration_test(azure_competing 180)
edw_integration_test(azure_interop 180)
edw_integration_test(azure_lost_lease 120)
