// Parkflow's own lint rules: each mirrors a refusal of the deploy check (engine/validation*.py)
// so the modeller sees it while drawing. The messages are English; the modeler translates
// them (admin-translations.js).
module.exports = {
  configs: {
    recommended: {
      rules: {
        "gateway-conditions": "error",
        "approval-mode": "error",
        "service-task": "error",
        "message-payload": "error",
        "signal-ref": "error",
      },
    },
  },
};
