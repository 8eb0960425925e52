// DER of GeneralName / GeneralNames (RFC 5280 §4.2.1.6), shared by certificates and requests.
#pragma once

#include <vector>

#include "pki/general_name.h"
#include "pki/internal/der_writer.h"

namespace signet::pki::internal {

// GeneralName CHOICE with IMPLICIT context tags: rfc822Name [1], dNSName [2],
// uniformResourceIdentifier [6], iPAddress [7].
void write_general_name(DerWriter& out, const GeneralName& name);

// GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
void write_general_names(DerWriter& out, const std::vector<GeneralName>& names);

}  // namespace signet::pki::internal
