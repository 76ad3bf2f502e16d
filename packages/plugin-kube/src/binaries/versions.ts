import type { Arch } from '@flexnode/sdk';

/** The three binaries flexnode installs from the Kubernetes release. */
export const KUBE_BINARIES = ['kubelet', 'kubectl', 'kubeadm'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

/** version (no `v`) → binary → arch → sha256 (lowercase hex). */
export type KubeChecksumTable = Readonly<Record<string, Readonly<Record<KubeBinary, Readonly<Record<Arch, string>>>>>>;

/**
 * sha256 of `https://dl.k8s.io/v<version>/bin/linux/<arch>/<binary>`, as published next to each file
 * (`<binary>.sha256`).
 *
 * Source: kubernetes-sigs/kubespray, whose checksum table is generated from those `.sha256` files:
 *  - 1.30.0 to 1.30.4: roles/kubespray-defaults/defaults/main/checksums.yml at commit 011b76d5c5c190101fffe57bfbd5e9346e62c0a5
 *    (its 1.29.x entries agree with the same file at commit c18e965c7d0cc5fed47dacd97b4a7b525849ca3d);
 *  - 1.34.0 to 1.34.4: roles/kubespray_defaults/vars/main/checksums.yml at commit 005bdce7f1867958838a2d0bb4f7e67893d98f64.
 * Other versions need `kubernetes.sha256` in the config (flexnode never installs an unverified binary).
 */
export const KUBE_CHECKSUMS: KubeChecksumTable = {
  '1.30.0': {
    kubelet: { amd64: '32a32ec3d7e7f8b2648c9dd503ce9ef63b4af1d1677f5b5aed7846fb02d66f18', arm64: 'fa887647422d34f3c7cc5b30fefcf97084d2c3277eff237c5808685ba8e4b15a' },
    kubectl: { amd64: '7c3807c0f5c1b30110a2ff1e55da1d112a6d0096201f1beb81b269f582b5d1c5', arm64: '669af0cf520757298ea60a8b6eb6b719ba443a9c7d35f36d3fb2fd7513e8c7d2' },
    kubeadm: { amd64: '29f4232c50e6524abba3443ff3b9948d386964d79eb8dfefb409e1f8a8434c14', arm64: 'c36afd28921303e6db8e58274de16c60a80a1e75030fc3c4e9c4ed6249b6b696' },
  },
  '1.30.1': {
    kubelet: { amd64: '87bd6e5de9c0769c605da5fedb77a35c8b764e3bda1632447883c935dcf219d3', arm64: 'c45049b829af876588ec1a30def3884ce77c2c175cd77485d49c78d2064a38fb' },
    kubectl: { amd64: '5b86f0b06e1a5ba6f8f00e2b01e8ed39407729c4990aeda961f83a586f975e8a', arm64: 'd90446719b815e3abfe7b2c46ddf8b3fda17599f03ab370d6e47b1580c0e869e' },
    kubeadm: { amd64: '651faa3bbbfb368ed00460e4d11732614310b690b767c51810a7b638cc0961a2', arm64: 'bda423cb4b9d056f99a2ef116bdf227fadbc1c3309fa3d76da571427a7f41478' },
  },
  '1.30.2': {
    kubelet: { amd64: '6923abe67ef069afca61c71c585023840426e802b198298055af3a82e11a4e52', arm64: '72ceb082311b42032827a936f80cd2437b8eee03053d05dbe36ba48585febfb8' },
    kubectl: { amd64: 'c6e9c45ce3f82c90663e3c30db3b27c167e8b19d83ed4048b61c1013f6a7c66e', arm64: '56becf07105fbacd2b70f87f3f696cfbed226cb48d6d89ed7f65ba4acae3f2f8' },
    kubeadm: { amd64: '672b0cae2accce5eac10a1fe4ea6b166e5b518c79ccf71a2fbe7b53c2ca74062', arm64: '7268762b7afd44bf07619985dd52c376b63e47d73b8f9a3b08cc49624a8fbd55' },
  },
  '1.30.3': {
    kubelet: { amd64: '9a37ddd5ea026639b7d85e98fa742e392df7aa5ec917bed0711a451613de3c1c', arm64: '41d1926cd7b9c7c250c45f11c8fa9d1946cae98aec2eefc61a2cb4933612bcce' },
    kubectl: { amd64: 'abd83816bd236b266c3643e6c852b446f068fe260f3296af1a25b550854ec7e5', arm64: 'c6f9568f930b16101089f1036677bb15a3185e9ed9b8dbce2f518fb5a52b6787' },
    kubeadm: { amd64: 'bb78c2a27027278ee644d523f583ed7fdba48b4fbf31e3cfb0e309b6457dda69', arm64: '6590f2447c87346aac29e2ab42fe4f29873f9bf154ee878f00da4c81bfdb8ea2' },
  },
  '1.30.4': {
    kubelet: { amd64: '0c02c0f997b3e9769eae7ca051856054411fca947b3d5409d991ce1964dd0e69', arm64: 'd3df7a4acff9aba5518930b9c417e8e0ca8cf5e105b7fee6504891fa8f3e962a' },
    kubectl: { amd64: '2ffd023712bbc1a9390dbd8c0c15201c165a69d394787ef03eda3eccb4b9ac06', arm64: '1d8b4e6443c7df8e92a065d88d146142a202fea5ec694135b83d9668529ea3b1' },
    kubeadm: { amd64: '6c6053fb8b31030ef7fffe146eb29489f7bf53d7a5ca10e0b10c907bf4b7e281', arm64: '609afad8590afb39b500cc5175c64b17690f7bf0b0eebcf1d347656d262e5c8c' },
  },
  '1.34.0': {
    kubelet: { amd64: '5c0d28cea2a3a5c91861dda088a29d56c1b027e184dae1d792686f0710750076', arm64: 'e45a7795391cd62ee226666039153832d3096c0f892266cd968936e18b2b40b0' },
    kubectl: { amd64: 'cfda68cba5848bc3b6c6135ae2f20ba2c78de20059f68789c090166d6abc3e2c', arm64: '00b182d103a8a73da7a4d11e7526d0543dcf352f06cc63a1fde25ce9243f49a0' },
    kubeadm: { amd64: 'aecc23726768d1753fd417f6e7395cb1a350373295e8e9d9f80e95ed3618e38e', arm64: '6b7108016bb2b74132f7494e200501d6522682c01759db91892051a052079c77' },
  },
  '1.34.1': {
    kubelet: { amd64: '5a72c596c253ea0b0e5bcc6f29903fd41d1d542a7cadf3700c165a2a041a8d82', arm64: '6a66bc08d6c637fcea50c19063cf49e708fde1630a7f1d4ceca069a45a87e6f1' },
    kubectl: { amd64: '7721f265e18709862655affba5343e85e1980639395d5754473dafaadcaa69e3', arm64: '420e6110e3ba7ee5a3927b5af868d18df17aae36b720529ffa4e9e945aa95450' },
    kubeadm: { amd64: '20654fd7c5155057af5c30b86c52c9ba169db6229eee6ac7abab4309df4172e7', arm64: 'b0dc5cf091373caf87d069dc3678e661464837e4f10156f1436bd35a9a7db06b' },
  },
  '1.34.2': {
    kubelet: { amd64: '9c5e717b774ee9b9285ce47e7d2150c29e84837eb19a7eaa24b60b1543c9d58f', arm64: '3e31b1bee9ab32264a67af8a19679777cd372b1c3a04b5d7621289cf137b357c' },
    kubectl: { amd64: '9591f3d75e1581f3f7392e6ad119aab2f28ae7d6c6e083dc5d22469667f27253', arm64: '95df604e914941f3172a93fa8feeb1a1a50f4011dfbe0c01e01b660afc8f9b85' },
    kubeadm: { amd64: '6a2346006132f6e1ed0b5248e518098cf5abbce25bf11b8926fb1073091b83f4', arm64: '065f7de266c59831676cc48b50f404fd18d1f6464502d53980957158e4cab3a7' },
  },
  '1.34.3': {
    kubelet: { amd64: '0e759f40bbc717c05227ae3994b77786f58f59ffa0137a34958c6b26fa5bcbbd', arm64: '765b740e3ad9c590852652a2623424ec60e2dddce2c6280d7f042f56c8c98619' },
    kubectl: { amd64: 'ab60ca5f0fd60c1eb81b52909e67060e3ba0bd27e55a8ac147cbc2172ff14212', arm64: '46913a7aa0327f6cc2e1cc2775d53c4a2af5e52f7fd8dacbfbfd098e757f19e9' },
    kubeadm: { amd64: 'f9ce265434d306e59d800b26f3049b8430ba71f815947f4bacdcdc33359417fb', arm64: '697cf3aa54f1a5740b883a3b18a5d051b4032fd68ba89af626781a43ec9bccc3' },
  },
  '1.34.4': {
    kubelet: { amd64: '03b8fea715a7ef82eeaf518dee34c72670c57cc7bc40dc1320c04fbf4f15172f', arm64: 'c78845473c434ee85a2444eeab87f8b20f524e3ab6854a078f79468f44aad8f5' },
    kubectl: { amd64: 'd50c359d95e0841eaad08ddc27c7be37cba8fdccfba5c8e2ded65e121ff112db', arm64: '5b982c0644ab1e27780246b9085a5886651b4a7ed86243acbb2bacc1bea01dda' },
    kubeadm: { amd64: 'b967f1fa0e36621c402d38bb560eb4a943954d5cf5a00e5150842f6f5da73455', arm64: 'd8028b7e8c8d6c9b3fc3da6bc88d4d0cfb33df1b4b026a7d6e8c35d1471c9f6e' },
  },
};
