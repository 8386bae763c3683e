// Network supervision (NetworkManager) and the Wi-Fi set-up page. Nothing runs at import.
export { createNetworkSupervisor, decideMode, usable, type NetworkSupervisor, type NetworkSupervisorOptions, type DeviceState, type Mode } from "./supervisor";
export { realNmcli, splitTerse, type NmCli, type NmResult } from "./nmcli";
export { apSsid, validatePsk, validateSsid, WifiInputError, WIFI_CONNECTION, AP_CONNECTION, type ScannedNetwork } from "./wifi";
export { createSetupApp, type SetupAppOptions } from "./setup-app";
