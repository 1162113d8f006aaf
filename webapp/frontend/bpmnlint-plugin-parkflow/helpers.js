// What the rules read of an element: its camunda:properties and Camunda attributes.

function is(node, type) {
  return typeof node.$instanceOf === "function" && node.$instanceOf(type);
}

// name -> value of the element's camunda:properties (engine: camunda:property name/value)
function properties(node) {
  const found = {};
  const values = (node.extensionElements && node.extensionElements.values) || [];
  for (const extension of values) {
    if (extension.$type === "camunda:Properties") {
      for (const property of extension.values || []) {
        if (property.name) {
          found[property.name] = property.value == null ? "" : String(property.value);
        }
      }
    }
  }
  return found;
}

// a Camunda attribute whether the moddle knows the camunda extension or kept it in $attrs
function camunda(node, name) {
  const known = node.get ? node.get(`camunda:${name}`) : undefined;
  if (known !== undefined && known !== null) {
    return known;
  }
  return node.$attrs ? node.$attrs[`camunda:${name}`] : undefined;
}

function blank(value) {
  return value === undefined || value === null || String(value).trim() === "";
}

module.exports = { blank, camunda, is, properties };
