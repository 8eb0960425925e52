// DER of GeneralName / GeneralNames (RFC 5280 §4.2.1.6), shared by certificates, requests and
// CRLs.
#pragma once

#include <string_view>
#include <vector>

#include "pki/general_name.h"
#include "pki/internal/der_writer.h"

namespace signet::pki::internal {

// GeneralName CHOICE with IMPLICIT context tags: rfc822Name [1], dNSName [2],
// uniformResourceIdentifier [6], iPAddress [7].
void write_general_name(DerWriter& out, const GeneralName& name);

// GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
void write_general_names(DerWriter& out, const std::vector<GeneralName>& names);

// CRLDistributionPoints (RFC 5280 §4.2.1.13), also the syntax of Freshest CRL (§4.2.1.15,
// §5.2.6): one DistributionPoint whose fullName is one URI.
void write_distribution_point_uri(DerWriter& out, std::string_view url);

}  // namespace signet::pki::internal
