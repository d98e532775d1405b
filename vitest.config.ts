import { defineConfig } from 'vitest/config';

// Each tier is its own project so it can run alone:
//   unit   - pure logic, no privileges, fast (host)
//   kernel - real IPVS/netlink/packets; run inside a User-Mode Linux kernel by test/lab/run-kernel-tests.ts
//   api    - a real etcd + kube-apiserver started by test/api/harness
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
          // The 1,000,000-input fuzz and the 20,000-address and 1,000-service tests take seconds;
          // vitest's 5 s default would make a loaded machine a failure (no test asserts a time).
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'kernel',
          include: ['test/kernel/**/*.test.ts'],
          environment: 'node',
          // One UML kernel, one CPU: files run one after another and share the boot.
          fileParallelism: false,
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'api',
          include: ['test/api/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 600_000,
          globalSetup: ['test/api/global-setup.ts'],
        },
      },
      {
        test: {
          // Clusters of real nodes (kubelet in UML kernels, test/lab/kube-*.ts) with the product
          // installed by Helm or kustomize, and the lab cluster of bare agents for the VRRP drills
          // (test/lab/cluster.ts). Needs root; one file at a time.
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          pool: 'forks',
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
