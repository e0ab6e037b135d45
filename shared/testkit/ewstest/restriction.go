package ewstest

import "strings"

// restrict keeps the items a FindItem Restriction selects
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/restriction).
// The one search expression modelled is IsEqualTo of the FieldURI
// message:InternetMessageId with a Constant
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/isequalto,
// .../fielduriorconstant): the value is compared with the whole
// InternetMessageId, angle brackets included, ignoring case as Exchange
// compares strings. Any other restriction answers ErrorInvalidRestriction
// rather than being ignored, so a client cannot rely on what the server
// does not model.
func restrict(r *node, items []*item) ([]*item, string) {
	if len(r.Nodes) != 1 {
		return nil, "ErrorInvalidRestriction"
	}
	eq := &r.Nodes[0]
	if eq.XMLName.Local != "IsEqualTo" || len(eq.Nodes) != 2 {
		return nil, "ErrorInvalidRestriction"
	}
	field, operand := &eq.Nodes[0], &eq.Nodes[1]
	if field.XMLName.Local != "FieldURI" || field.attr("FieldURI") != "message:InternetMessageId" || operand.XMLName.Local != "FieldURIOrConstant" {
		return nil, "ErrorInvalidRestriction"
	}
	c := operand.find("Constant")
	if c == nil || len(operand.Nodes) != 1 {
		return nil, "ErrorInvalidRestriction"
	}
	want := c.attr("Value")
	var keep []*item
	for _, it := range items {
		if it.messageID != "" && strings.EqualFold("<"+it.messageID+">", want) {
			keep = append(keep, it)
		}
	}
	return keep, ""
}
