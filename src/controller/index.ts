// The lvs-operator controller: status, conditions, router ids and Events from the cluster model.
export { Controller, defaultFieldManager, reportingController, type ControllerOptions, type LeaderElectionOptions } from './controller.js';
export { ControllerMetrics } from './metrics.js';
export { serviceStatus, groupStatus, realServerStatus, realServerViews, countedViews, ownedFieldsEqual, ownedStatusFields } from './status.js';
export type { ServiceStatusFields, GroupStatusFields, RealServerStatusFields, RealServerView, RealServerUse, ServiceDecision } from './status.js';
export { mergeConditions, transitions, isBad, type DesiredCondition, type Transition } from './conditions.js';
