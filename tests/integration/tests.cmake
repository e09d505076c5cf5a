# SPDX-License-Identifier: Apache-2.0
# Integration tests: real processes, real files, emulators. Included from tests/CMakeLists.txt.
edw_integration_test(cli_basics 120)
edw_integration_test(competing_consumers 600)
edw_integration_test(sigkill_recovery 600)
edw_integration_test(sigterm_release 300)
edw_integration_test(poison 300)
# AWS backend on fauxqs + dynalite (and a loopback STS stand-in), with the AWS SDK for JS v3
edw_integration_test(aws_e2e 300)
edw_integration_test(aws_interop 300)
edw_integration_test(aws_poison 300)
edw_integration_test(aws_irsa 300)
edw_integration_test(aws_sigv4_oracle 120)
