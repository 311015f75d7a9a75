//! A tag put on a company.
tag_link!("company_tags", company, company_id, CompanyId, Company);
