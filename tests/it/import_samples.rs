//! Sample exports as the products write them, made as bytes for the import tests: their
//! real headers and quirks (HubSpot's BOM, labels, `;` id lists and portal-zone dates;
//! Salesforce's API names, ISO-8859-1, 15- and 18-character ids of one record and deleted
//! rows; Pipedrive's `Entity - Field` headers), and the bad inputs an importer meets.
#![allow(dead_code)]

/// One sample file: its name as the product gives it, and its bytes.
pub struct Sample {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

impl Sample {
    /// A file of `text` as it is written here (UTF-8, no BOM).
    pub fn text(name: &'static str, text: &str) -> Sample {
        Sample {
            name,
            bytes: text.into(),
        }
    }
}

fn utf8_bom(text: &str) -> Vec<u8> {
    let mut b = vec![0xEF, 0xBB, 0xBF];
    b.extend_from_slice(text.as_bytes());
    b
}

fn latin1(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(
        !unmappable,
        "the Salesforce samples must be ISO-8859-1 text"
    );
    bytes.into_owned()
}

/// Lines joined with CRLF, as the exports end them.
fn crlf(lines: &[&str]) -> String {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
}

// HubSpot: UTF-8 with BOM; owners by name; dates in the portal's zone (Europe/Berlin in
// these samples); association ids as `;` lists.

pub fn hubspot_companies() -> Sample {
    Sample {
        name: "hubspot-crm-exports-all-companies-2024-02-01.csv",
        bytes: utf8_bom(&crlf(&[
            "Record ID,Company name,Company Domain Name,Company owner,Industry,Number of Employees,Phone Number,City,Country/Region,Create Date,Associated Contact IDs",
            "9001,Müller & Söhne GmbH,mueller-soehne.de,Jane Doe,MANUFACTURING,120,+49 30 1234567,Berlin,Germany,2023-11-02 14:30,101;102",
            "9002,\"Acme, Inc.\",acme.com,Bob Stone,COMPUTER_SOFTWARE,12,,Austin,United States,2024-01-15 09:00,103",
        ])),
    }
}

pub fn hubspot_contacts() -> Sample {
    Sample {
        name: "hubspot-crm-exports-all-contacts-2024-02-01.csv",
        bytes: utf8_bom(&crlf(&[
            "Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Job Title,Associated Company,Associated Company IDs,Associated Deal IDs,Create Date,Lifecycle Stage",
            "101,Zoë,Müller,zoe@mueller-soehne.de,+49 30 1234568,Jane Doe,Geschäftsführerin,Müller & Söhne GmbH,9001,5001;5002,2023-11-02 14:35,customer",
            "102,José,Núñez,jose@mueller-soehne.de,,Jane Doe,Einkauf,Müller & Söhne GmbH,9001,5001,2023-12-24 23:59,lead",
            "103,李,雷,li.lei@acme.com,,Bob Stone,CTO,\"Acme, Inc.\",9002;9001,,2024-01-15 09:05,opportunity",
        ])),
    }
}

pub fn hubspot_deals() -> Sample {
    Sample {
        name: "hubspot-crm-exports-all-deals-2024-02-01.csv",
        bytes: utf8_bom(&crlf(&[
            "Record ID,Deal Name,Deal Stage,Pipeline,Amount,Currency,Close Date,Deal owner,Create Date,Associated Company IDs,Associated Contact IDs",
            "5001,Müller – Jahreslizenz,Contract Sent,Sales Pipeline,24000.5,EUR,2024-03-31 00:00,Jane Doe,2024-01-03 10:00,9001,101;102",
            "5002,Müller – Support,Closed Won,Sales Pipeline,1200,EUR,2024-02-15 00:00,Jane Doe,2024-01-20 16:45,9001,101",
        ])),
    }
}

// Salesforce: the weekly export, ISO-8859-1, every value quoted, 18-character ids in the
// object's own file and 15-character ones in some lookups, `IsDeleted` rows.

/// Ids of the sample records: (15-character, 18-character).
pub const SF_ACME: (&str, &str) = ("0015000000VALDt", "0015000000VALDtAAP");
pub const SF_GLOBEX: (&str, &str) = ("0015000000Gx01a", "0015000000Gx01aAAB");
pub const SF_USER: &str = "0055000000Usr01AAB";

pub fn salesforce_user() -> Sample {
    Sample {
        name: "User.csv",
        bytes: latin1(&crlf(&[
            "\"Id\",\"Username\",\"LastName\",\"FirstName\",\"Name\",\"Email\",\"IsActive\",\"CreatedDate\"",
            &format!(
                "\"{SF_USER}\",\"jane@acme.example\",\"Doe\",\"Renée\",\"Renée Doe\",\"jane@acme.example\",\"true\",\"2020-05-01T08:00:00.000Z\""
            ),
        ])),
    }
}

pub fn salesforce_account() -> Sample {
    Sample {
        name: "Account.csv",
        bytes: latin1(&crlf(&[
            "\"Id\",\"IsDeleted\",\"Name\",\"Type\",\"BillingStreet\",\"BillingCity\",\"BillingCountry\",\"Phone\",\"Website\",\"Industry\",\"NumberOfEmployees\",\"OwnerId\",\"CreatedDate\"",
            &format!(
                "\"{}\",\"false\",\"Acme Société Anonyme\",\"Customer\",\"1 Rue de l'Église\",\"Paris\",\"France\",\"+33 1 23 45 67 89\",\"acme.example\",\"Technology\",\"250\",\"{SF_USER}\",\"2023-06-01T09:30:00.000Z\"",
                SF_ACME.1
            ),
            &format!(
                "\"{}\",\"true\",\"Globex (deleted)\",\"Prospect\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"{SF_USER}\",\"2023-06-02T09:30:00.000Z\"",
                SF_GLOBEX.1
            ),
        ])),
    }
}

pub fn salesforce_contact() -> Sample {
    Sample {
        name: "Contact.csv",
        bytes: latin1(&crlf(&[
            "\"Id\",\"IsDeleted\",\"AccountId\",\"LastName\",\"FirstName\",\"Salutation\",\"Phone\",\"Email\",\"Title\",\"LeadSource\",\"OwnerId\",\"CreatedDate\"",
            // AccountId in its 15-character form, as a report exports it.
            &format!(
                "\"0035000000Ctc01AAB\",\"false\",\"{}\",\"Dubois\",\"Amélie\",\"Ms.\",\"+33 6 12 34 56 78\",\"amelie@acme.example\",\"Directrice\",\"Web\",\"{SF_USER}\",\"2023-06-03T10:00:00.000Z\"",
                SF_ACME.0
            ),
            &format!(
                "\"0035000000Ctc02AAB\",\"false\",\"{}\",\"Grün\",\"Jürgen\",\"Mr.\",\"\",\"juergen@acme.example\",\"\",\"\",\"{SF_USER}\",\"2023-06-04T10:00:00.000Z\"",
                SF_ACME.1
            ),
            &format!(
                "\"0035000000Ctc03AAB\",\"true\",\"{}\",\"Gone\",\"Deleted\",\"\",\"\",\"\",\"\",\"\",\"{SF_USER}\",\"2023-06-05T10:00:00.000Z\"",
                SF_ACME.1
            ),
        ])),
    }
}

pub fn salesforce_opportunity() -> Sample {
    Sample {
        name: "Opportunity.csv",
        bytes: latin1(&crlf(&[
            "\"Id\",\"IsDeleted\",\"AccountId\",\"Name\",\"StageName\",\"Amount\",\"Probability\",\"CloseDate\",\"Type\",\"IsClosed\",\"IsWon\",\"OwnerId\",\"CreatedDate\"",
            &format!(
                "\"0065000000Opp01AAB\",\"false\",\"{}\",\"Acme – Renouvellement\",\"Negotiation/Review\",\"48000.00\",\"90\",\"2024-03-31\",\"Existing Business\",\"false\",\"false\",\"{SF_USER}\",\"2024-01-10T15:20:00.000Z\"",
                SF_ACME.1
            ),
        ])),
    }
}

pub fn salesforce_contact_role() -> Sample {
    Sample {
        name: "OpportunityContactRole.csv",
        bytes: latin1(&crlf(&[
            "\"Id\",\"OpportunityId\",\"ContactId\",\"Role\",\"IsPrimary\",\"IsDeleted\",\"CreatedDate\"",
            "\"00K5000000Ocr01EAB\",\"0065000000Opp01AAB\",\"0035000000Ctc01\",\"Décideur\",\"true\",\"false\",\"2024-01-10T15:25:00.000Z\"",
        ])),
    }
}

pub fn salesforce_task() -> Sample {
    Sample {
        name: "Task.csv",
        bytes: latin1(&crlf(&[
            "\"Id\",\"WhoId\",\"WhatId\",\"Subject\",\"ActivityDate\",\"Status\",\"Priority\",\"IsClosed\",\"OwnerId\",\"Description\",\"IsDeleted\",\"CreatedDate\"",
            &format!(
                "\"00T5000000Tsk01EAB\",\"0035000000Ctc01AAB\",\"0065000000Opp01AAB\",\"Appeler Amélie\",\"2024-02-05\",\"Not Started\",\"High\",\"false\",\"{SF_USER}\",\"Préparer l'offre\r\navant l'appel\",\"false\",\"2024-01-11T08:00:00.000Z\""
            ),
        ])),
    }
}

// Pipedrive: `Entity - Field` headers, UTF-8 without BOM.

pub fn pipedrive_organizations() -> Sample {
    Sample {
        name: "organizations-8811-20240201.csv",
        bytes: crlf(&[
            "Organization - ID,Organization - Name,Organization - Owner,Organization - Address,Organization - Labels,Organization - Organization created",
            "31,Nordwind AB,Jane Doe,\"Storgatan 1, Stockholm\",Customer,2023-09-01 12:00:00",
        ])
        .into_bytes(),
    }
}

pub fn pipedrive_persons() -> Sample {
    Sample {
        name: "people-8811-20240201.csv",
        bytes: crlf(&[
            "Person - ID,Person - Name,Person - First name,Person - Last name,Person - Email - Work,Person - Email - Home,Person - Phone - Work,Person - Organization,Person - Owner,Person - Person created",
            "71,Åsa Lindqvist,Åsa,Lindqvist,asa@nordwind.example,,+46 8 123 45,Nordwind AB,Jane Doe,2023-09-02 08:15:00",
            "72,Per Öberg,Per,Öberg,,per.oberg@home.example,,Nordwind AB,Jane Doe,2023-09-03 08:15:00",
        ])
        .into_bytes(),
    }
}

pub fn pipedrive_deals() -> Sample {
    Sample {
        name: "deals-8811-20240201.csv",
        bytes: crlf(&[
            "Deal - ID,Deal - Title,Deal - Value,Deal - Currency of Value,Deal - Organization,Deal - Contact person,Deal - Pipeline,Deal - Stage,Deal - Owner,Deal - Expected close date,Deal - Deal created",
            "401,Nordwind rollout,\"12,500.00\",SEK,Nordwind AB,Åsa Lindqvist,Default pipeline,Proposal Made,Jane Doe,2024-04-30,2024-01-05 10:00:00",
        ])
        .into_bytes(),
    }
}

/// The spellings of Pipedrive's import template: one row holds a deal, its person and its
/// organization.
pub fn pipedrive_template() -> Sample {
    Sample {
        name: "pipedrive-import-template.csv",
        bytes: crlf(&[
            "Deal - Title,Deal - Value,Deal - Currency,Person - Name,Person - Email,Organization - Name",
            "Pilot,5000,EUR,Åsa Lindqvist,asa@nordwind.example,Nordwind AB",
        ])
        .into_bytes(),
    }
}

// Bad inputs.

/// Row 3 opens a quote it never closes; row 5 has text after a closing quote.
pub fn broken_quoting() -> Sample {
    Sample {
        name: "contacts-broken-quoting.csv",
        bytes: b"email,first_name,last_name\n\
a@example.com,Ann,Lee\n\
b@example.com,\"Bob,Ray\n\
c@example.com,Cid,Moe\n\
d@example.com,\"Dee\"x,Fox\n\
e@example.com,Eve,Ng\n"
            .to_vec(),
    }
}

/// A UTF-8 file (the first 64 KiB show it) whose last rows were pasted in as ISO-8859-1.
pub fn wrong_encoding() -> Sample {
    let mut bytes = b"email,first_name,last_name\n".to_vec();
    for i in 0..2000 {
        bytes.extend_from_slice(format!("u{i}@example.com,Zoë,Ångström\n").as_bytes());
    }
    bytes.extend_from_slice(b"latin@example.com,J\xFCrgen,M\xFCller\n");
    bytes.extend_from_slice(b"last@example.com,Ok,Fine\n");
    Sample {
        name: "contacts-mixed-encoding.csv",
        bytes,
    }
}

/// An Excel workbook renamed to .csv.
pub fn binary() -> Sample {
    let mut bytes = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00".to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    Sample {
        name: "contacts.csv",
        bytes,
    }
}

/// As a German Excel saves CSV: `;` between cells, `,` as the decimal mark.
pub fn semicolon() -> Sample {
    Sample {
        name: "deals-excel.csv",
        bytes: latin1(&crlf(&[
            "Titel;Betrag;Währung;Abschluss",
            "Großauftrag;1.234,50;EUR;31.01.2024",
            "Wartung;99,90;EUR;15.02.2024",
        ])),
    }
}

/// Notes with line breaks and doubled quotes inside quoted cells.
pub fn quoted_newlines() -> Sample {
    Sample {
        name: "notes.csv",
        bytes: crlf(&[
            "id,body,occurred_at",
            "1,\"First line",
            "second line with \"\"quotes\"\"\",2024-01-31T12:00:00Z",
            "2,single line,2024-02-01T12:00:00Z",
        ])
        .into_bytes(),
    }
}

/// One column, three date forms.
pub fn three_date_formats() -> Sample {
    Sample {
        name: "dates.csv",
        bytes: crlf(&[
            "title,due",
            "a,2024-01-31T12:00:00.000Z",
            "b,01/31/2024 9:05 AM",
            "c,31.01.2024",
        ])
        .into_bytes(),
    }
}
