//! A tag put on a contact.
tag_link!("contact_tags", contact, contact_id, ContactId, Contact);
