import type { AzureContext, NodeIdentity } from './azure.js';
import { defineCapability } from './capability.js';

/**
 * The capabilities of a node and the contract of each provider's service. A plugin that takes over a capability
 * (`"plugins": {"container-runtime": "@org/plugin-crio"}`) provides these services, and every consumer (the
 * kubelet, containerd's CNI settings) reads them from the service, never from constants.
 */

/** What a container runtime tells the kubelet. */
export interface ContainerRuntimeService {
  /** The CRI endpoint the kubelet connects to, e.g. `unix:///run/containerd/containerd.sock`. */
  readonly criEndpoint: string;
  /** The systemd unit the kubelet is ordered after and wants, e.g. `containerd.service`. */
  readonly unit: string;
  /** The cgroup driver the runtime uses: the kubelet must use the same one. */
  readonly cgroupDriver: 'systemd' | 'cgroupfs';
  /** The sandbox (pause) image the runtime runs pods with, for kubelets that are told it too; optional. */
  readonly sandboxImage?: string;
}

/** The container runtime (runc + containerd by default). */
export const ContainerRuntime = defineCapability<ContainerRuntimeService>('container-runtime');

/** Where the pod network's CNI plugins and configuration live, for the runtime that calls them. */
export interface CniService {
  /** Directory of the CNI plugin executables, e.g. `/opt/cni/bin`. */
  readonly binDir: string;
  /** Directory of the CNI network configuration, e.g. `/etc/cni/net.d`. */
  readonly confDir: string;
}

/** The pod network (plugin-cni's bridge by default; Cilium and others take it over). */
export const Cni = defineCapability<CniService>('cni');

/** The operator's Azure access for bootstrap-time ARM calls (plugin-arc). */
export const AzureCredential = defineCapability<AzureContext>('azure-credential');

/** The node's own Azure identity (the Arc machine's managed identity; plugin-arc). */
export const ArcIdentity = defineCapability<NodeIdentity>('arc-identity');
