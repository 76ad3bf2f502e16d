import type { VersionTable } from '@flexnode/sdk';

/**
 * CNI plugins release tarballs `cni-plugins-linux-<arch>-v<v>.tgz`.
 *
 * Source: the `.tgz.sha256` files published next to each tarball on
 * github.com/containernetworking/plugins/releases, as collected in vexxhost/ansible-collection-containers
 * (roles/cni_plugins/defaults/main.yml, generated from those files). The default 1.5.1 amd64 value is
 * confirmed by several further independent public pins of the same URL; the arm64 values and the other
 * versions come from that one table only.
 */
export const CNI_PLUGINS_VERSIONS: VersionTable = {
  '1.4.0': {
    amd64: 'c2485ddb3ffc176578ae30ae58137f0b88e50f7c7f2af7d53a569276b2949a33',
    arm64: '304d4389d5b732b7a73513d002c4895f731d030682d40653f411e10e39114194',
  },
  '1.4.1': {
    amd64: '2a0ea7072d1806b8526489bcd3b4847a06ab010ee32ba3c3d4e5a3235d3eb138',
    arm64: '56fe62d73942cffd8f119d2b8ecb6a062e85f529a3dbfc7aa5cd83c2c01929a7',
  },
  '1.5.0': {
    amd64: '57a18478422cb321370e30a5ee6ce026321289cd9c94353ca697dddd7714f1a5',
    arm64: 'ab38507efe50c34bc2242a25c5783c19fdfe0376c65a2a91d48174d4f39f1fc2',
  },
  '1.5.1': {
    amd64: '77baa2f669980a82255ffa2f2717de823992480271ee778aa51a9c60ae89ff9b',
    arm64: 'c2a292714d0fad98a3491ae43df8ad58354b3c0bdf5d5a3e281777967c70fcff',
  },
  '1.6.0': {
    amd64: '682b49ff8933a997a52107161f1745f8312364b4c7f605ccdf7a77499130d89d',
    arm64: 'db09ab057ecf60b05ba05cbec38d55b95cc139c7f1078e2e4857cc13af158cee',
  },
  '1.6.2': {
    amd64: 'b8e811578fb66023f90d2e238d80cec3bdfca4b44049af74c374d4fae0f9c090',
    arm64: '01e0e22acc7f7004e4588c1fe1871cc86d7ab562cd858e1761c4641d89ebfaa4',
  },
};

/** The version upstream's tool installs. */
export const DEFAULT_CNI_PLUGINS_VERSION = '1.5.1';
