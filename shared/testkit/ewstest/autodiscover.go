package ewstest

import (
	"fmt"
	"net/http"
	"strings"
)

// SetAutodiscover turns the SOAP (autodiscover.svc) and POX
// (autodiscover.xml) Autodiscover services on or off; off answers 404, as
// a server without that service does. Both are on at the start.
func (s *Server) SetAutodiscover(soap, pox bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noSOAP, s.noPOX = !soap, !pox
}

func (s *Server) autodiscoverOff(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return path == "/autodiscover/autodiscover.svc" && s.noSOAP || path == "/autodiscover/autodiscover.xml" && s.noPOX
}

// getUserSettings answers a SOAP Autodiscover GetUserSettings request
// with the ExternalEwsUrl and InternalEwsUrl of the listener the request
// came in on, or InvalidUser for an unknown mailbox.
func (s *Server) getUserSettings(w http.ResponseWriter, r *http.Request, env *node) {
	if env.find("GetUserSettingsRequestMessage") == nil {
		http.Error(w, "not a GetUserSettings request", http.StatusBadRequest)
		return
	}
	addr := env.text("Mailbox")
	s.mu.Lock()
	_, ok := s.boxes[strings.ToLower(addr)]
	s.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ews := scheme + "://" + r.Host + "/EWS/Exchange.asmx"
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action><h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><h:MajorVersion>%d</h:MajorVersion><h:MinorVersion>%d</h:MinorVersion><h:MajorBuildNumber>%d</h:MajorBuildNumber><h:MinorBuildNumber>0</h:MinorBuildNumber><h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header>`,
		MajorVersion, MinorVersion, BuildNumber)
	fmt.Fprint(w, `<s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses><UserResponse>`)
	if !ok {
		fmt.Fprint(w, `<ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user.</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings/>`)
	} else {
		fmt.Fprintf(w, `<ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings><UserSetting i:type="StringSetting"><Name>InternalEwsUrl</Name><Value>%s</Value></UserSetting><UserSetting i:type="StringSetting"><Name>ExternalEwsUrl</Name><Value>%s</Value></UserSetting></UserSettings>`, esc(ews), esc(ews))
	}
	fmt.Fprint(w, `</UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`)
}
