import type { VersionTable } from '@flexnode/sdk';

/**
 * containerd release tarballs `containerd-<v>-linux-<arch>.tar.gz`.
 *
 * Source: the `.sha256sum` files published next to each tarball on github.com/containerd/containerd/releases,
 * as collected in vexxhost/ansible-collection-containers (roles/containerd/defaults/main.yml, generated from
 * those files). The default 1.7.22 amd64 value is confirmed by two further independent public pins of the same
 * URL; the arm64 values and the other versions come from that one table only.
 */
export const CONTAINERD_VERSIONS: VersionTable = {
  '1.7.20': {
    amd64: 'e09410787b6f392748959177a84e024424f75d7aff33ea1c5b783f2260edce67',
    arm64: 'cf80cd305f7d1c23aaf0c57bc1c1e37089cad9130d533db6fe968cdebd16c759',
  },
  '1.7.21': {
    amd64: '3d1fcdfd0b141f4dc4916b7aee7f9a7773dc344baffc8954e1ca66b1adc5c120',
    arm64: '7b6b67d998eb86856d23df5d57269c054539072bbb27677975cf78269b2c5c10',
  },
  '1.7.22': {
    amd64: 'f8b2d935d1f86003f4e0c1af3b9f0d2820bacabe6dc9f562785b74af24c5e468',
    arm64: '48d0a8461ae829b12b07c3663b14b70287d0607a0792719c51b4e4dd700b02ce',
  },
  '1.7.23': {
    amd64: '8a0de43d9313aef2ebdccc0ffa49461a4a28139a2c0ef104c3c847f6f37c8119',
    arm64: '6a66b5e63a5e88ff7eeb478ccaca9083d44e51e1d7261ae183fe5951a6226ccd',
  },
  '1.7.24': {
    amd64: '1a94f15139f37633f39e24f08a4071f4533b285df3cbee6478972d26147bcaef',
    arm64: '420406d2b34ebb422ab3755fbeede59bf3bfcfccf5cfa584b558c93769d99064',
  },
  '1.7.25': {
    amd64: '02990fa281c0a2c4b073c6d2415d264b682bd693aa7d86c5d8eb4b86d684a18c',
    arm64: 'e9201d478e4c931496344b779eb6cb40ce5084ec08c8fff159a02cabb0c6b9bf',
  },
  '1.7.26': {
    amd64: 'fdf1fb17086b62fc861103da4e3fda3d79bc543b42d2acef5d07e76b13d35d19',
    arm64: 'adea067914e678ac37d5091ead66f1e36e5cced4d395bbd2be60772495e09eff',
  },
  '1.7.27': {
    amd64: '5b038fb22ab5dbb1ce57dd3d8f102460cd8619ff2afc78870837b06e8c4e840a',
    arm64: '3f03ea60c7dacddf890be3ab18f7ef859d9d104b19627f52038d7984361912bc',
  },
  '1.7.28': {
    amd64: '7a8c262deb63becc877e82d23749e4f99f4a17e8e660f9b8c257ca87a5c056b6',
    arm64: '97457594ff8549cb82d664306593cafd3d2c781c706f9fffed885a46d8919bec',
  },
  '2.0.0': {
    amd64: '6f8da716941f7e89315cefaa6e5a8f1ff10b323ff46611313c455df7ab1ebee1',
    arm64: '2a00b1553f38aa9e716d61316b661961c2fbfbb7aad7bd73b377be5725ecc0f1',
  },
};

/** containerd 1.7 as upstream ships it: the config stays `version = 2`, which 1.6 to 2.x all read. */
export const DEFAULT_CONTAINERD_VERSION = '1.7.22';

/**
 * runc release binaries `runc.<arch>`.
 *
 * Source: the `runc.sha256sum` file of each release on github.com/opencontainers/runc/releases, as collected
 * in vexxhost/ansible-collection-containers (roles/runc/defaults/main.yml, generated from those files). The
 * default 1.1.14 amd64 value is confirmed by two further independent public pins. Upstream's default 1.1.12
 * (an upstream config names it, and loads unchanged): kubernetes-sigs/kubespray
 * roles/kubespray-defaults/defaults/main/checksums.yml at commit 011b76d5c5c190101fffe57bfbd5e9346e62c0a5
 * (`runc_checksums`, the same URLs), whose 1.1.13 values agree with the table's.
 */
export const RUNC_VERSIONS: VersionTable = {
  '1.1.12': {
    amd64: 'aadeef400b8f05645768c1476d1023f7875b78f52c7ff1967a6dbce236b8cbd8',
    arm64: '879f910a05c95c10c64ad8eb7d5e3aa8e4b30e65587b3d68e009a3565aed5bb8',
  },
  '1.1.13': {
    amd64: 'bcfc299c1ab255e9d045ffaf2e324c0abaf58f599831a7c2c4a80b33f795de94',
    arm64: '4b93701752f5338ed51592b38e039aef8c1a59856d1225df21eba84c2830743c',
  },
  '1.1.14': {
    amd64: 'a83c0804ebc16826829e7925626c4793da89a9b225bbcc468f2b338ea9f8e8a8',
    arm64: '050ee97c266bf7d31e1474568ffcbb2a3ff2208087aaa238c8bbe7e398414126',
  },
  '1.1.15': {
    amd64: 'd218e1f8be4dcb1f288dea754faee342375a36f695eac5ab37fc8b7270a78763',
    arm64: 'c680f8c470ffb228944ca80e1a4dbb6768b3ad97057350852e128847f9dd10bc',
  },
  '1.2.0': {
    amd64: '3bbb68e49bc89dd2607f11d2ff0fa699963ebada39c32ad8a6aab0d40435c1ed',
    arm64: '3d4f66dc1d91f1b2a46713d185a506a604f1fe9f2f2b89c281eb1c5c13677ff0',
  },
  '1.2.1': {
    amd64: 'b106d49c60e688022f5909432a77bd3260f29687199d47213ed87269588af781',
    arm64: '8c0d81c80ffdaab986629a9c787d8468ab41851e7aab8f9617a4c3674e192aaa',
  },
  '1.2.2': {
    amd64: 'a34f5ab4fc1df1f456293c3d797a76f2d41cf3cd970bb49fc53ba94bbc8a5cf6',
    arm64: 'bfd3e6c58bd6060eaa725520c31cbc8f6386ac7606e65bfa7fe9084100aa1789',
  },
  '1.2.3': {
    amd64: 'e6e8c8049b1910fce58fa68c057aaa5f42cee2a73834df5e59e5da7612d2739d',
    arm64: '4ef19ab21ce1ae5a01e1d3fa5b005e45cdf59f5d3ab32541c9e262cb2b2d3451',
  },
  '1.2.4': {
    amd64: 'e83565aa78ec8f52a4d2b4eb6c4ca262b74c5f6770c1f43670c3029c20175502',
    arm64: '285f6c4c3de1d78d9f536a0299ae931219527b2ebd9ad89df5a1072896b7e82a',
  },
  '1.2.5': {
    amd64: 'fbd851fce6a8e0d67a9d184ea544c2abf67c9fd29b80fcc1adf67dfe9eb036a1',
    arm64: 'bfc6575f4c601740539553b639ad6f635c23f76695ed484171bd864df6a23f76',
  },
};

/** runc 1.1.x, the line upstream pins (it defaults to 1.1.12); 1.1.14 carries the fix for CVE-2024-45310. */
export const DEFAULT_RUNC_VERSION = '1.1.14';
