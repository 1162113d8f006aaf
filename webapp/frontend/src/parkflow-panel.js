// The properties panel offers only what Parkflow runs: the Camunda Platform groups whose
// settings the deploy check refuses (Java field injection, connectors, candidate starters,
// error definitions of external tasks, job settings) or accepts without effect (history
// cleanup, tasklist, asynchronous continuations, external task priority) are left out.
// Diagrams that carry them still open; the deploy check says what it refuses and why.
const HIDDEN = new Set([
  "CamundaPlatform__AsynchronousContinuations",
  "CamundaPlatform__CandidateStarter",
  "CamundaPlatform__ConnectorInput",
  "CamundaPlatform__ConnectorOutput",
  "CamundaPlatform__Errors",
  "CamundaPlatform__ExternalTask",
  "CamundaPlatform__FieldInjection",
  "CamundaPlatform__HistoryCleanup",
  "CamundaPlatform__JobExecution",
  "CamundaPlatform__Tasklist",
]);
// a low priority: it runs after the providers that make the groups
const AFTER_ALL = 100;

function ParkflowGroups(propertiesPanel) {
  propertiesPanel.registerProvider(AFTER_ALL, this);
}
ParkflowGroups.prototype.getGroups = function getGroups() {
  return (groups) => groups.filter((group) => !HIDDEN.has(group.id));
};
ParkflowGroups.$inject = ["propertiesPanel"];

export const ParkflowPanelModule = {
  __init__: ["parkflowGroups"],
  parkflowGroups: ["type", ParkflowGroups],
};
export { HIDDEN as HIDDEN_GROUPS };
