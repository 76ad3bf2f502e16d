import type { Arch } from '@flexnode/sdk';

/** The three binaries flexnode installs from the Kubernetes release. */
export const KUBE_BINARIES = ['kubelet', 'kubectl', 'kubeadm'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];
/** kube-proxy: from the same release, installed by kube.proxy only when flexnode runs it (service proxy mode `flexnode`). */
export const KUBE_PROXY = 'kube-proxy';
/** A binary of the Kubernetes node release flexnode installs. */
export type ReleaseBinary = KubeBinary | typeof KUBE_PROXY;

/** version (no `v`) → binary → arch → sha256 (lowercase hex). */
export type KubeChecksumTable = Readonly<Record<string, Readonly<Record<KubeBinary, Readonly<Record<Arch, string>>>>>>;

/**
 * sha256 of `https://dl.k8s.io/v<version>/bin/linux/<arch>/<binary>`, as published next to each file
 * (`<binary>.sha256`).
 *
 * Source: kubernetes-sigs/kubespray, whose checksum table is generated from those `.sha256` files:
 *  - 1.30.0 to 1.30.4: roles/kubespray-defaults/defaults/main/checksums.yml at commit 011b76d5c5c190101fffe57bfbd5e9346e62c0a5
 *    (its 1.29.x entries agree with the same file at commit c18e965c7d0cc5fed47dacd97b4a7b525849ca3d);
 *  - 1.34.0 to 1.34.4: roles/kubespray_defaults/vars/main/checksums.yml at commit 005bdce7f1867958838a2d0bb4f7e67893d98f64;
 *  - 1.34.5 to 1.36.4: the same file at commit 46dbdd3994b32640bcd806b0097f50e8fdf1d514 (its 1.34.0 to 1.34.4 agree).
 * Other versions are verified against the `.sha256` dl.k8s.io publishes beside each binary (see artifacts.ts); the
 * table wins where it has the version, so mirrors and air-gapped sites need nothing published.
 */
export const KUBE_CHECKSUMS: KubeChecksumTable = {
  '1.30.0': {
    kubelet: {
      amd64: '32a32ec3d7e7f8b2648c9dd503ce9ef63b4af1d1677f5b5aed7846fb02d66f18',
      arm64: 'fa887647422d34f3c7cc5b30fefcf97084d2c3277eff237c5808685ba8e4b15a',
    },
    kubectl: {
      amd64: '7c3807c0f5c1b30110a2ff1e55da1d112a6d0096201f1beb81b269f582b5d1c5',
      arm64: '669af0cf520757298ea60a8b6eb6b719ba443a9c7d35f36d3fb2fd7513e8c7d2',
    },
    kubeadm: {
      amd64: '29f4232c50e6524abba3443ff3b9948d386964d79eb8dfefb409e1f8a8434c14',
      arm64: 'c36afd28921303e6db8e58274de16c60a80a1e75030fc3c4e9c4ed6249b6b696',
    },
  },
  '1.30.1': {
    kubelet: {
      amd64: '87bd6e5de9c0769c605da5fedb77a35c8b764e3bda1632447883c935dcf219d3',
      arm64: 'c45049b829af876588ec1a30def3884ce77c2c175cd77485d49c78d2064a38fb',
    },
    kubectl: {
      amd64: '5b86f0b06e1a5ba6f8f00e2b01e8ed39407729c4990aeda961f83a586f975e8a',
      arm64: 'd90446719b815e3abfe7b2c46ddf8b3fda17599f03ab370d6e47b1580c0e869e',
    },
    kubeadm: {
      amd64: '651faa3bbbfb368ed00460e4d11732614310b690b767c51810a7b638cc0961a2',
      arm64: 'bda423cb4b9d056f99a2ef116bdf227fadbc1c3309fa3d76da571427a7f41478',
    },
  },
  '1.30.2': {
    kubelet: {
      amd64: '6923abe67ef069afca61c71c585023840426e802b198298055af3a82e11a4e52',
      arm64: '72ceb082311b42032827a936f80cd2437b8eee03053d05dbe36ba48585febfb8',
    },
    kubectl: {
      amd64: 'c6e9c45ce3f82c90663e3c30db3b27c167e8b19d83ed4048b61c1013f6a7c66e',
      arm64: '56becf07105fbacd2b70f87f3f696cfbed226cb48d6d89ed7f65ba4acae3f2f8',
    },
    kubeadm: {
      amd64: '672b0cae2accce5eac10a1fe4ea6b166e5b518c79ccf71a2fbe7b53c2ca74062',
      arm64: '7268762b7afd44bf07619985dd52c376b63e47d73b8f9a3b08cc49624a8fbd55',
    },
  },
  '1.30.3': {
    kubelet: {
      amd64: '9a37ddd5ea026639b7d85e98fa742e392df7aa5ec917bed0711a451613de3c1c',
      arm64: '41d1926cd7b9c7c250c45f11c8fa9d1946cae98aec2eefc61a2cb4933612bcce',
    },
    kubectl: {
      amd64: 'abd83816bd236b266c3643e6c852b446f068fe260f3296af1a25b550854ec7e5',
      arm64: 'c6f9568f930b16101089f1036677bb15a3185e9ed9b8dbce2f518fb5a52b6787',
    },
    kubeadm: {
      amd64: 'bb78c2a27027278ee644d523f583ed7fdba48b4fbf31e3cfb0e309b6457dda69',
      arm64: '6590f2447c87346aac29e2ab42fe4f29873f9bf154ee878f00da4c81bfdb8ea2',
    },
  },
  '1.30.4': {
    kubelet: {
      amd64: '0c02c0f997b3e9769eae7ca051856054411fca947b3d5409d991ce1964dd0e69',
      arm64: 'd3df7a4acff9aba5518930b9c417e8e0ca8cf5e105b7fee6504891fa8f3e962a',
    },
    kubectl: {
      amd64: '2ffd023712bbc1a9390dbd8c0c15201c165a69d394787ef03eda3eccb4b9ac06',
      arm64: '1d8b4e6443c7df8e92a065d88d146142a202fea5ec694135b83d9668529ea3b1',
    },
    kubeadm: {
      amd64: '6c6053fb8b31030ef7fffe146eb29489f7bf53d7a5ca10e0b10c907bf4b7e281',
      arm64: '609afad8590afb39b500cc5175c64b17690f7bf0b0eebcf1d347656d262e5c8c',
    },
  },
  '1.34.0': {
    kubelet: {
      amd64: '5c0d28cea2a3a5c91861dda088a29d56c1b027e184dae1d792686f0710750076',
      arm64: 'e45a7795391cd62ee226666039153832d3096c0f892266cd968936e18b2b40b0',
    },
    kubectl: {
      amd64: 'cfda68cba5848bc3b6c6135ae2f20ba2c78de20059f68789c090166d6abc3e2c',
      arm64: '00b182d103a8a73da7a4d11e7526d0543dcf352f06cc63a1fde25ce9243f49a0',
    },
    kubeadm: {
      amd64: 'aecc23726768d1753fd417f6e7395cb1a350373295e8e9d9f80e95ed3618e38e',
      arm64: '6b7108016bb2b74132f7494e200501d6522682c01759db91892051a052079c77',
    },
  },
  '1.34.1': {
    kubelet: {
      amd64: '5a72c596c253ea0b0e5bcc6f29903fd41d1d542a7cadf3700c165a2a041a8d82',
      arm64: '6a66bc08d6c637fcea50c19063cf49e708fde1630a7f1d4ceca069a45a87e6f1',
    },
    kubectl: {
      amd64: '7721f265e18709862655affba5343e85e1980639395d5754473dafaadcaa69e3',
      arm64: '420e6110e3ba7ee5a3927b5af868d18df17aae36b720529ffa4e9e945aa95450',
    },
    kubeadm: {
      amd64: '20654fd7c5155057af5c30b86c52c9ba169db6229eee6ac7abab4309df4172e7',
      arm64: 'b0dc5cf091373caf87d069dc3678e661464837e4f10156f1436bd35a9a7db06b',
    },
  },
  '1.34.2': {
    kubelet: {
      amd64: '9c5e717b774ee9b9285ce47e7d2150c29e84837eb19a7eaa24b60b1543c9d58f',
      arm64: '3e31b1bee9ab32264a67af8a19679777cd372b1c3a04b5d7621289cf137b357c',
    },
    kubectl: {
      amd64: '9591f3d75e1581f3f7392e6ad119aab2f28ae7d6c6e083dc5d22469667f27253',
      arm64: '95df604e914941f3172a93fa8feeb1a1a50f4011dfbe0c01e01b660afc8f9b85',
    },
    kubeadm: {
      amd64: '6a2346006132f6e1ed0b5248e518098cf5abbce25bf11b8926fb1073091b83f4',
      arm64: '065f7de266c59831676cc48b50f404fd18d1f6464502d53980957158e4cab3a7',
    },
  },
  '1.34.3': {
    kubelet: {
      amd64: '0e759f40bbc717c05227ae3994b77786f58f59ffa0137a34958c6b26fa5bcbbd',
      arm64: '765b740e3ad9c590852652a2623424ec60e2dddce2c6280d7f042f56c8c98619',
    },
    kubectl: {
      amd64: 'ab60ca5f0fd60c1eb81b52909e67060e3ba0bd27e55a8ac147cbc2172ff14212',
      arm64: '46913a7aa0327f6cc2e1cc2775d53c4a2af5e52f7fd8dacbfbfd098e757f19e9',
    },
    kubeadm: {
      amd64: 'f9ce265434d306e59d800b26f3049b8430ba71f815947f4bacdcdc33359417fb',
      arm64: '697cf3aa54f1a5740b883a3b18a5d051b4032fd68ba89af626781a43ec9bccc3',
    },
  },
  '1.34.4': {
    kubelet: {
      amd64: '03b8fea715a7ef82eeaf518dee34c72670c57cc7bc40dc1320c04fbf4f15172f',
      arm64: 'c78845473c434ee85a2444eeab87f8b20f524e3ab6854a078f79468f44aad8f5',
    },
    kubectl: {
      amd64: 'd50c359d95e0841eaad08ddc27c7be37cba8fdccfba5c8e2ded65e121ff112db',
      arm64: '5b982c0644ab1e27780246b9085a5886651b4a7ed86243acbb2bacc1bea01dda',
    },
    kubeadm: {
      amd64: 'b967f1fa0e36621c402d38bb560eb4a943954d5cf5a00e5150842f6f5da73455',
      arm64: 'd8028b7e8c8d6c9b3fc3da6bc88d4d0cfb33df1b4b026a7d6e8c35d1471c9f6e',
    },
  },
  '1.34.5': {
    kubelet: {
      amd64: '660c7da5cca02dcd83ba21bb3df95a8983bb1c0169af396a8cc234a6d6e7297f',
      arm64: 'a4cd54fa5af5ed6b4ed14cf172d30f53fd1f197d7d3f43af733b54b19cc87ac5',
    },
    kubectl: {
      amd64: '6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb',
      arm64: '2d433b53b99ea532f877df6fa5044286e3950d4933967ac3d99262760bc649fd',
    },
    kubeadm: {
      amd64: 'e381f7f5c41f2a6916432177d95c1ee95d5539f790bbeacafe9ef61dc68e8e35',
      arm64: 'cc8a59c0f04a1d7389790dc872b1c714e4cf4d3ba0c38ca2f4ca1388fb38b774',
    },
  },
  '1.34.6': {
    kubelet: {
      amd64: '603e15187e0a909a2f104b17b3ea1d927514eae9fe1e96cd8a05b015cf1ee82c',
      arm64: '6b30975e2a582367b5048ffdf9ae26e05442cc18faaf29b5dbd9c6a6b556fa26',
    },
    kubectl: {
      amd64: '3166155b17198c0af34ff5a360bd4d9d58db98bafadc6f3c2a57ae560563cd6b',
      arm64: 'a49a439f83f504e6bc051f516a8baf8d2220d74110f7f9bcaf25feac69e368d1',
    },
    kubeadm: {
      amd64: '75a48673b8b9149c1555e0de3a2ce603468037d5396d746a75158828c9b56d7c',
      arm64: '7878391ea18b276ad69c570dcdaa46f74449a978f8e222f92d99855332a01f62',
    },
  },
  '1.34.7': {
    kubelet: {
      amd64: '1bc50f574e2f365513c07055e007d284d5e93322282ed288d27e81c2b4356d8c',
      arm64: '07658e949e5a089faf36da7ae4e7242a4d2a97fa8eaace0980fd9705d23143a8',
    },
    kubectl: {
      amd64: 'b46ecf2b80f76d5a7d58c296c2e11e42c85eaa1eb866ddbc1e91625f71c21000',
      arm64: '93d2113f1f38b5709f2955b7981fcd37d675c9aafda81702c202a63361b6093b',
    },
    kubeadm: {
      amd64: '679f304e592c6f8e20bf24c424a2c5f35d8d181d171e15774cecd0cb1dffb7ba',
      arm64: 'f0ca19db42757a3612e2a20268209a3843b6eb8c1284f11c5fa7c31d40ed8c8f',
    },
  },
  '1.34.8': {
    kubelet: {
      amd64: '117ff5f6923c9ab4af7fa4e995a2bdc48b4b0f84d00017b4d7368e1e861e84f2',
      arm64: '5d8d62d15f18c18998af09fcab83420b9cbccc2be7fede2a0b26f4a3f523c6b5',
    },
    kubectl: {
      amd64: 'f6249132865c13abe3c9dd5038f5da65849cb86eee1608c001831504e481aa8c',
      arm64: '4c9fe1f717738950c638c38056130a8db5075e6413ae36d8687221a240cdf88b',
    },
    kubeadm: {
      amd64: '27ec4962fc855f4e7fdc3875aa275168a66e721c27533c4953294968da96e7e5',
      arm64: '7b06f4442a7a819fcb4e0697721a2e4a8acda068d66ecfb4e781f213ee804884',
    },
  },
  '1.34.9': {
    kubelet: {
      amd64: 'd4ce6d8d7e2d762894b13bbed90dbb56fbe8fa01414a68cc2988e070d8676b94',
      arm64: 'fd348a9bf8b796b6672fd864606af38e68e788dd62976a3a6b4d95333e406424',
    },
    kubectl: {
      amd64: '73bb6f5063caadae1e73a39de018d8ad21755984bea35358484db817859e7634',
      arm64: '63317b16a5264af47169b54dafd1878fed29031ebc8367960dd3b88484334e04',
    },
    kubeadm: {
      amd64: '76802c717a6917c35124675c639e283854506fec8700e6a63c81069918845127',
      arm64: '892789444a830b16eb1c8d3e09a878a9ced6ac18c5765e5bb9d41123a41ce3ee',
    },
  },
  '1.34.10': {
    kubelet: {
      amd64: '59669fd1233989fda877aa8a785bd56d4c73e739afcd90596c62e0172af2738c',
      arm64: '8f9305c7c639056e9544af4d360119af03c43cec470b2fb28ddaca26525b2564',
    },
    kubectl: {
      amd64: '95bd70842bd11a524d24acd5b68726899e3488e153e45e2b4ae846545beda050',
      arm64: '52d3aeefea32fdfa3671ccd636be5da463ddfd0a2fc09d7bcbaedcff4c76cad5',
    },
    kubeadm: {
      amd64: '7a75c473f72166d3081ed35e627328f3d4ce960d6beff983cb6384a3dc675bf4',
      arm64: '550f1d6d7e73b91cc77d10f89a94e745d800e49b4b7fc509c1a670ffc6401b1b',
    },
  },
  '1.34.11': {
    kubelet: {
      amd64: '4777a226b2ba3c1d656254bcf3f7ad471bf210042f361094216e51ab4fa9b4b6',
      arm64: 'f12879879481e9af46317c2c82a6dba7d59df78ed095e44e0399643df1c4c8ba',
    },
    kubectl: {
      amd64: '8efbb9435132a190920eb65a47a8c1ecf755ad85ab57a600c9bedbab460bb7a8',
      arm64: '5b045a4712674c88a56fd98eef4285689738b7fbe8735e1b9ee3509521af5cb4',
    },
    kubeadm: {
      amd64: 'bd3cbe40aff6c7b3b939243ebd80dbd7da207c0e594cfdd434295bf553ea7351',
      arm64: '1365b20b698151f432eb8f5a8ca53f0200e85af32392d31f40ffa901a73b694c',
    },
  },
  '1.35.0': {
    kubelet: {
      amd64: '2f4ed7778681649b81244426c29c5d98df60ccabf83d561d69e61c1cbb943ddf',
      arm64: 'aa658d077348b43d238f50966a583f4244b2a7d45590c77b3b165b7d44983ab8',
    },
    kubectl: {
      amd64: 'a2e984a18a0c063279d692533031c1eff93a262afcc0afdc517375432d060989',
      arm64: '58f82f9fe796c375c5c4b8439850b0f3f4d401a52434052f2df46035a8789e25',
    },
    kubeadm: {
      amd64: '729e7fb34e4f1bfcf2bdaf2a14891ed64bd18c47aaab42f8cc5030875276cfed',
      arm64: '1dac7dc2c6a56548bbc6bf8a7ecf4734f2e733fb336d7293d84541ebe52d0e50',
    },
  },
  '1.35.1': {
    kubelet: {
      amd64: 'e7343310e03ff0d424df4397bdfa4468947d6d1f0f93dac586c1e8d6e4086d5d',
      arm64: '73475c6db8fd8a9780b1b378fa2f917875e6146166c24603c1abc6eafd4493a8',
    },
    kubectl: {
      amd64: '36e2f4ac66259232341dd7866952d64a958846470f6a9a6a813b9117bd965207',
      arm64: '706256e21a4e9192ee62d1a007ac0bfcff2b0b26e92cc7baad487a6a5d08ff82',
    },
    kubeadm: {
      amd64: '8a7ff344eef1bfba88f9a74b3fdc9ea4448c94f1b3cefb8c0aeeaf1f96e05053',
      arm64: '80097a3c4ef824f4edfe131d2bd429772c4be3a460c42a44f2320164a917de32',
    },
  },
  '1.35.2': {
    kubelet: {
      amd64: '20887f461c0de96b0cb14c7af6b897f92d424ac078f8642f98e83ef52a0bf03e',
      arm64: 'eaf11f9c20c385624775671662e127b083c9b5d0b451fd613f9468e09ca5656c',
    },
    kubectl: {
      amd64: '924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277',
      arm64: 'cd859449f54ad2cb05b491c490c13bb836cdd0886ae013c0aed3dd67ff747467',
    },
    kubeadm: {
      amd64: 'a51cb85c70c98ec6868fd3413ac786af5fab4ce51438963752ec5f58e68e5452',
      arm64: 'b540b734e9eaeb134e2cb7c7803dc62160589ac3b2615d717ce41acb22bbec98',
    },
  },
  '1.35.3': {
    kubelet: {
      amd64: '28d570423eaad5f1f5658a646bd8c015c786c95d62ffaf14bf35fa0c4326fa05',
      arm64: '58496a5d16d4316b18397735190d2d41e0c368169ecb458d91b09f4cd1e03c80',
    },
    kubectl: {
      amd64: 'fd31c7d7129260e608f6faf92d5984c3267ad0b5ead3bced2fe125686e286ad6',
      arm64: '6f0cd088a82dde5d5807122056069e2fac4ed447cc518efc055547ae46525f14',
    },
    kubeadm: {
      amd64: 'a3fb4b3a214a807e2ef4c3fda3196c7f97dcf8152558de5a3c473c869bda0b07',
      arm64: '647a9821c37a27bcaf6d679a191732b686c01cecd0219d5e579129f0cfd62cef',
    },
  },
  '1.35.4': {
    kubelet: {
      amd64: '983a6ba5a49823dcdd745c674e5e2416377dd27d6ad1b42d2befa0fb961a19f6',
      arm64: 'd710eef03bb4ad164bb77af9be5b11b44f874e2fc08153c7d383420d685f73e8',
    },
    kubectl: {
      amd64: 'b529430df69a688fd61b64ad2299edb5fd71cb58be2a4779dba624c7d3510efd',
      arm64: '6a5a4cc4e396d7626a7a693a3044b51c75520f81db30fe6816c2554e53be336f',
    },
    kubeadm: {
      amd64: '0c0497da793f8897c14e45340da919534b615294a1aab69dc1998896c0f11145',
      arm64: 'e8f6b5bee3e2c8b5965f4ae65c2ae04e3f9f426d2458a1e2f159e824d419d92c',
    },
  },
  '1.35.5': {
    kubelet: {
      amd64: '4ba1f892bd52fdae7cd2abb1b1111054ff274c71f88af0a85fd9f1107e8d46c8',
      arm64: 'a100cfe89d7dd7a49a07164c6ccb78df02563483ef5b37330e1150e37e8868b3',
    },
    kubectl: {
      amd64: '90f75ea6ecc9ea5633262e1c0b83a40560003b30fc94a04cb099404fcef0c224',
      arm64: 'ac69e06fd6860d69786692f5af1c3a1208ed54f8366a4d97ab15c172e99765ee',
    },
    kubeadm: {
      amd64: 'cbf71fbee3a3f60edf3fae4e50994f88a35b35cddf65d373d7955b58e8785397',
      arm64: '24658203703a8bfa2813571881c1ba08f8cc4aff714a5b43bbf417af7d3cf229',
    },
  },
  '1.35.6': {
    kubelet: {
      amd64: 'f320e9485cdb8fd190ab45efd3c3e29f6fcf4ad1a4c610a058d8f0b6bcd34a3a',
      arm64: 'b45c8b2b8a46a92028fcd68571aa38c839b64e38e199da23e1f37dcbe9f3399b',
    },
    kubectl: {
      amd64: '5d11e2ba01ea68ffd053f56e27738e2b4330013ee67f7e46c6da6c585d3c9926',
      arm64: 'c0f97f31c9ddc22d4951d543a1a7125a9af4b31e895ad4aa99899c4ba2a6ff0b',
    },
    kubeadm: {
      amd64: '49fd320be1d6af003fc3b61ad60cf30b02838a661ab0139798e021f7e378d806',
      arm64: 'b6acbcd4ab8a18759191a2d6373d84a80f3cb47ad5460603df5fe8887b139716',
    },
  },
  '1.35.7': {
    kubelet: {
      amd64: 'e48cbb9c62351aa95f455bdae3c9a9e9d7d644027c231ade7a67b868b2be3258',
      arm64: '0dc3f53fc51f6a6c26c437ec9eded016106ef931db2dd9b3905c656796bed438',
    },
    kubectl: {
      amd64: '12e97f9d23a9f6cbb87b89becd6bd291e1a858a3379a4e11e2c822c4c1530052',
      arm64: '5103d45b8881434d417694057b8ccb5ae79fd310a5c5c13e403c5e62e15909be',
    },
    kubeadm: {
      amd64: '9206f531ffe9cef39e9b734bc49ee9ca965d646ff6d4536e5b3fd3ff71151512',
      arm64: 'b8c3a1145a9875f046e9b66d5cd5810431e92ae1d5abca82f0151694cd257928',
    },
  },
  '1.35.8': {
    kubelet: {
      amd64: '6971b9f95e54dbed67a2271abe6e78f8cc2894494649f3cf39e4b25a82dca923',
      arm64: '7744f84c49df6dff7d0a0471f9acef31568c02459659de83aa279cf3a04b1714',
    },
    kubectl: {
      amd64: '874d5e72dbb819f43cff16bcd1e4f8bac5b7f2361fe1e55049b0a6c676fb0cbf',
      arm64: 'cc749967b62f4422260bc9c0aa7a7c55f45175ae38cb8d95767b5d2b7e04c1fd',
    },
    kubeadm: {
      amd64: '1bbc64a2be5b300880ae9330c6bba592ec2a2b8ecb79c527b0c7cc0f44070e5e',
      arm64: '8956730f3ae46ebdb95e95845542f71d844f74affd69c14634a58d1fe3510d86',
    },
  },
  '1.36.0': {
    kubelet: {
      amd64: 'd857082946c28493e8fdc52227feabd962e0e0900b6c6e4f6510168043b79dd4',
      arm64: '049d95107361583e64f3ac9b8c9bdaf73fc7e512a838972b13b423a33ece87e9',
    },
    kubectl: {
      amd64: '123d8c8844f46b1244c547fffb3c17180c0c26dac9890589fe7e67763298748e',
      arm64: '9f9d9c44a7b5264515ac9da5991584e2395bd50662e651132337e7b4d0c56f8f',
    },
    kubeadm: {
      amd64: 'f962dcee1f49a51368c3b383742144d99eacff77b2132cd0a540ed8c6b30fe81',
      arm64: '43d4ca3a9f8f49c2c2f6db2c056de1a00fa110a3dd5aa68a74fbc52e42d96c01',
    },
  },
  '1.36.1': {
    kubelet: {
      amd64: '7efa1780c73d9fb3a464002864e582eb2d15aa691e475eaae323093d08feae14',
      arm64: 'bf274dd3affbf2543d20465dee1f763f668f78c6fbd56197794f81337a49d687',
    },
    kubectl: {
      amd64: '629d3f410e09bf49b64ae7079f7f0bda1191efed311f7d37fdbab0ad5b0ec2b7',
      arm64: '59f7ee8e477fae658447607dc3c8790ac17a1b016c01c622c12070e969e2d4e7',
    },
    kubeadm: {
      amd64: 'f35980333a4dae753807345ae359eca03f48f9945855e6a6a6708fe8b3b24038',
      arm64: '82fa5119d6687f721cd80cb278bac08f54cc5d3fd0320c66cef9394d42e153a9',
    },
  },
  '1.36.2': {
    kubelet: {
      amd64: '3ba68cb4f0906053c08ab843131d5cec559cf8c718dbd679950a078b306abbb4',
      arm64: 'b0b45db96f0e6bf996780b8a2b8d868bf538dc7c3a60cf604cf0ea2d65c24b06',
    },
    kubectl: {
      amd64: '1e9045ec32bea85da43de85f0065358529ea7c7a152eca78154fba5b58c27d82',
      arm64: 'c957eb8c4bea27a3bb35b269edd9082e27f027f7b76b20b5bf4afebc726c6d3e',
    },
    kubeadm: {
      amd64: 'f95d1b345f97c673ce1c1347eb96bf2587850975155ae701cdfc629a5b575b70',
      arm64: 'c638f0b4d9b216df8d5bcf41473b81e59143aa0a690392c224e97e6ec91ed3e9',
    },
  },
  '1.36.3': {
    kubelet: {
      amd64: '46707a53209f826ad0f0d62371ac69cd00e78fd9a8176cf5f6f87f18f7f8b718',
      arm64: '57205a5daf5883873d87b4914e1e00bdd7707acd075714788cfb0fc1f60bc414',
    },
    kubectl: {
      amd64: 'ebbd080e7c2e275093b55915722043257eb24004363e20acb3c4d71919f88336',
      arm64: '3d86f24401c41ae5a46ac50eef8865fe891d3647d324a0836f6c63757a126e62',
    },
    kubeadm: {
      amd64: 'bba1733c701bf70ec74ba1cc3fd5745404c1134a8a4b0a5f8560cc9832023421',
      arm64: '276cfbdc43b10fef663288cc1ed76abf77b1b7f700e9f1c053cb5dc3115484de',
    },
  },
  '1.36.4': {
    kubelet: {
      amd64: 'cf2562db46c48ab84cc3791540778ee7fb1a0a008529adbb434723dd02ed8b4b',
      arm64: 'fd53ea3fcbd077844f50a3c67e9b52f62972a563674956bab0c0f4fb7ea37d50',
    },
    kubectl: {
      amd64: '8b8f088da2dab964f853b38464033b1be15ede2839eca751482357c45abdd05a',
      arm64: '0ecf44450ee6063bf19dd166a103ee6df4a9034455c2abce626e6eea657d73fb',
    },
    kubeadm: {
      amd64: '10d054585907f2c8bb823c84f6a66b3bd2a474c3d795475f04e9a44f78650fe6',
      arm64: '6a849c07d3e1c708f5c40f1ac8be03a56124204dfc7e1931e4113634019c0dad',
    },
  },
};
