import fs from 'fs';
import path from 'path';
import { stringify } from 'csv-stringify/sync';
import { Random } from './random';
import { CrmAddress, GazetteerRecord, HousingAddress, Bs7666Address, toBs7666, toCrmAddress, toHousingAddress, addressLines } from './addresses';

/**
 * A seeded, deterministic population for the simulators: a fictional borough's gazetteer
 * (LLPG extract) and the people of it, spread across the systems as in a real council:
 * most known to the CRM and to council tax, some tenants, some planning applicants, some
 * known to nobody, and some that a lookup cannot tell apart (two tenants with one surname
 * at one UPRN). The same seed gives the same population, field for field.
 */
export type Fund = 'CTX' | 'NDR' | 'HRA' | 'SUN';

export interface AccountLink {
  fund: Fund;
  accountRef: string;
}

export interface CrmContactRecord {
  contactId: string;
  title: string;
  firstName: string;
  lastName: string;
  dateOfBirth?: string;
  email?: string;
  phone?: string;
  address: CrmAddress;
  accounts: AccountLink[];
}

export interface PlanningPartyRecord {
  partyId: string;
  title: string;
  forename: string;
  surname: string;
  dateOfBirth?: string;
  address: Bs7666Address;
}

export interface TenantRecord {
  personRef: string;
  title: string;
  forename: string;
  surname: string;
  dateOfBirth: string;
}

export interface TenancyRecord {
  tenancyRef: string;
  rentAccountRef: string;
  uprn: string;
  propertyAddress: HousingAddress;
  tenants: TenantRecord[];
}

export interface AccountHolder {
  forename: string;
  surname: string;
  dateOfBirth: string;
}

export interface CouncilTaxAccountRecord {
  accountRef: string;
  uprn: string;
  /** address lines as Revenues holds them (up to four) and the postcode */
  addressLines: string[];
  postcode: string;
  holders: AccountHolder[];
}

/** One person of the borough, with the id each system knows them by (absent: not known there). */
export interface Resident {
  residentId: string;
  title: string;
  forename: string;
  surname: string;
  dateOfBirth: string;
  uprn: string;
  crmContactId?: string;
  planningPartyId?: string;
  tenancyRef?: string;
  personRef?: string;
  councilTaxAccountRef?: string;
}

export interface Population {
  seed: string;
  gazetteer: GazetteerRecord[];
  residents: Resident[];
  crmContacts: CrmContactRecord[];
  planningParties: PlanningPartyRecord[];
  tenancies: TenancyRecord[];
  councilTaxAccounts: CouncilTaxAccountRecord[];
  /** every account a payment can be taken for, with the CRM contact it belongs to (if any) */
  accounts: (AccountLink & { contactId?: string })[];
  /** residents picked out for demos and tests (residentIds), chosen by the seed */
  examples: {
    knownToAll: string[];
    crmOnly: string[];
    knownToNone: string[];
    crmWithoutUprn: string[];
    /** tenancies with two tenants sharing a surname: FindTenant(surname, uprn) finds both */
    ambiguousTenancies: string[];
  };
}

export interface PopulationOptions {
  seed?: string;
  /** gazetteer records (default 20,000) */
  properties?: number;
}

const FIRST_WORDS = ['Alder', 'Ash', 'Beech', 'Birch', 'Bluebell', 'Bramble', 'Bracken', 'Briar', 'Buttercup', 'Campion', 'Cedar', 'Chestnut', 'Clover', 'Cowslip', 'Daisy', 'Dove', 'Elder', 'Elm', 'Fern', 'Fieldfare', 'Foxglove', 'Furze', 'Gorse', 'Hawthorn', 'Hazel', 'Heather', 'Heron', 'Holly', 'Hornbeam', 'Juniper', 'Kestrel', 'Kingfisher', 'Lapwing', 'Larch', 'Linden', 'Linnet', 'Lupin', 'Mallow', 'Maple', 'Marigold', 'Meadow', 'Medlar', 'Mulberry', 'Nightingale', 'Oak', 'Orchard', 'Osier', 'Peregrine', 'Plover', 'Poplar', 'Primrose', 'Quince', 'Redwing', 'Rowan', 'Saffron', 'Sedge', 'Sorrel', 'Spindle', 'Swallow', 'Sycamore', 'Tansy', 'Teasel', 'Thistle', 'Thrush', 'Vetch', 'Wagtail', 'Walnut', 'Willow', 'Woodruff', 'Wren', 'Yarrow', 'Yew'];
const STREET_TYPES = ['Road', 'Street', 'Lane', 'Close', 'Avenue', 'Crescent', 'Drive', 'Way', 'Gardens', 'Grove', 'Place', 'Terrace', 'Walk', 'Rise', 'Mews', 'View'];
/** The fictional borough: post towns with their fictional outward codes (area XM does not exist). */
const TOWNS = [
  { townName: 'Ashbury', postTown: 'ASHBURY', outcodes: ['XM1', 'XM2', 'XM3'], localities: ['Ashbury Vale', 'Northgate', ''] },
  { townName: 'Brackenford', postTown: 'BRACKENFORD', outcodes: ['XM4', 'XM5'], localities: ['Upper Brackenford', ''] },
  { townName: 'Coldharbour Green', postTown: 'BRACKENFORD', outcodes: ['XM6'], localities: [''] },
  { townName: 'Dunmere', postTown: 'DUNMERE', outcodes: ['XM7', 'XM8'], localities: ['Dunmere Quay', 'Fenley', ''] },
  { townName: 'Eastwick Parva', postTown: 'DUNMERE', outcodes: ['XM9'], localities: [''] },
];
const HOUSE_NAMES = ['Rose Cottage', 'The Old Rectory', 'Hillside', 'Orchard House', 'The Laurels', 'Woodlands', 'Ivy Cottage', 'The Coach House', 'Meadow View', 'Fairhaven', 'The Old School House', 'Brook Cottage', 'Holly Lodge', 'The Granary', 'Windrush', 'Pear Tree Cottage'];
const BLOCK_NAMES = ['Fleming House', 'Seacole Court', 'Brunel House', 'Lovelace Court', 'Turing House', 'Franklin Court', 'Darwin House', 'Nightingale Court', 'Attlee House', 'Pankhurst Court'];
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';
const FEMALE = ['Ann', 'Amelia', 'Aisha', 'Beatrice', 'Chloe', 'Deborah', 'Eleanor', 'Fatima', 'Grace', 'Hannah', 'Isla', 'Jasmine', 'Joan', 'Karen', 'Lily', 'Margaret', 'Maya', 'Niamh', 'Olivia', 'Priya', 'Rachel', 'Sarah', 'Sophie', 'Susan', 'Zara', 'Emily', 'Freya', 'Harriet', 'Irene', 'Julia'];
const MALE = ['Adam', 'Ahmed', 'Alan', 'Arthur', 'Ben', 'Callum', 'Daniel', 'David', 'Edward', 'Finley', 'George', 'Harry', 'Ian', 'Jack', 'James', 'Kieran', 'Liam', 'Mark', 'Mohammed', 'Noah', 'Oliver', 'Paul', 'Raj', 'Robert', 'Samuel', 'Thomas', 'William', 'Yusuf', 'Owen', 'Rhys'];
const SURNAMES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson', 'Clarke', 'Patel', 'Khan', 'Lewis', 'James', 'Phillips', 'Mason', 'Mitchell', 'Rose', 'Davis', 'Rodriguez', 'Cox', 'Alexander', 'Morgan', 'Moore', 'Mills', 'King', 'Hughes', 'Turner', 'Allen', 'Hill', 'Scott', 'Young', 'Baker', 'Harris', 'Lee', 'Martin', 'Cooper', 'Ward', 'Morris', 'Bell', 'Kaur', 'Singh', 'Ahmed', 'Ali', 'Begum', "O'Brien", 'Murphy', 'Kelly', 'Nowak', 'Kowalski', 'Price', 'Parker', 'Carter', 'Bennett', 'Griffiths', 'Edwards', 'Marshall', 'Stevens', 'Chapman', 'Fletcher', 'Holmes', 'Shaw', 'Lloyd', 'Ellis', 'Owen', 'Rees', 'Watson', 'Pearce', 'Booth', 'Hussain', 'Rahman', 'Okafor', 'Adeyemi', 'Mensah', 'Nguyen', 'Chen', 'Wong', 'Fraser', 'MacDonald', 'Campbell', 'Stewart', 'Reid', 'Ferguson', 'Doherty', 'Quinn', 'Byrne', 'Gallagher', 'Hart', 'Lamb', 'Webb'];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function generateGazetteer(random: Random, count: number): GazetteerRecord[] {
  const records: GazetteerRecord[] = [];
  const usedStreets = new Set<string>();
  let uprn = 10009000000;
  let usrn = 40100000;
  const postcodeCounter = new Map<string, number>();
  const nextPostcode = (outcode: string) => {
    const n = postcodeCounter.get(outcode) ?? 0;
    postcodeCounter.set(outcode, n + 1);
    const sector = 1 + (Math.floor(n / (INWARD_LETTERS.length * INWARD_LETTERS.length)) % 9);
    const unit = n % (INWARD_LETTERS.length * INWARD_LETTERS.length);
    return `${outcode} ${sector}${INWARD_LETTERS[Math.floor(unit / INWARD_LETTERS.length)]}${INWARD_LETTERS[unit % INWARD_LETTERS.length]}`;
  };
  while (records.length < count) {
    const town = random.pick(TOWNS);
    let streetDescription = '';
    do streetDescription = `${random.pick(FIRST_WORDS)} ${random.pick(STREET_TYPES)}`;
    while (usedStreets.has(`${town.townName}|${streetDescription}`) && usedStreets.size < FIRST_WORDS.length * STREET_TYPES.length * TOWNS.length - 1);
    usedStreets.add(`${town.townName}|${streetDescription}`);
    const streetUsrn = String(++usrn);
    const locality = random.pick(town.localities);
    const outcode = random.pick(town.outcodes);
    const baseX = random.int(440000, 452000);
    const baseY = random.int(305000, 318000);
    let postcode = nextPostcode(outcode);
    let onPostcode = 0;
    const add = (saon: string, paon: string, logicalStatus: 1 | 6 | 8 = 1) => {
      if (onPostcode++ >= random.int(12, 18)) {
        postcode = nextPostcode(outcode);
        onPostcode = 1;
      }
      uprn += random.int(1, 3);
      records.push({ uprn: String(uprn), usrn: streetUsrn, saon, paon, streetDescription, locality, townName: town.townName, postTown: town.postTown, postcode, x: baseX + random.int(0, 600), y: baseY + random.int(0, 600), logicalStatus });
    };
    const houses = random.int(8, 90);
    for (let number = 1; number <= houses && records.length < count; number++) {
      const roll = random.next();
      if (roll < 0.05) add('', random.pick(HOUSE_NAMES));
      else if (roll < 0.1) {
        // a house converted into flats: the house's own record is now historic
        add('', String(number), 8);
        for (const saon of random.pick([['Flat A', 'Flat B'], ['Ground Floor Flat', 'First Floor Flat'], ['Flat 1', 'Flat 2', 'Flat 3']])) add(saon, String(number));
      } else if (roll < 0.11) add('', `Plot ${number}`, 6); // a new build not yet numbered
      else add('', String(number));
    }
    if (random.chance(0.25) && records.length < count) {
      const block = random.pick(BLOCK_NAMES);
      const flats = random.int(6, 40);
      for (let flat = 1; flat <= flats && records.length < count; flat++) add(`Flat ${flat}`, block);
    }
  }
  return records.slice(0, count);
}

/** Builds the whole population; the same options give the same result. */
export function generatePopulation(options: PopulationOptions = {}): Population {
  const seed = options.seed ?? 'council-hub';
  const random = new Random(seed);
  const gazetteer = generateGazetteer(random, options.properties ?? 20000);
  const homes = gazetteer.filter((r) => r.logicalStatus === 1);

  const residents: Resident[] = [];
  const crmContacts: CrmContactRecord[] = [];
  const planningParties: PlanningPartyRecord[] = [];
  const tenancies: TenancyRecord[] = [];
  const councilTaxAccounts: CouncilTaxAccountRecord[] = [];
  const accounts: Population['accounts'] = [];
  const crmWithoutUprn: string[] = [];
  const ambiguousTenancies: string[] = [];

  let residentCount = 0;
  const person = (surname: string, olderThan?: string): Resident => {
    const female = random.chance(0.5);
    const year = olderThan ? Math.min(2006, Number(olderThan.slice(0, 4)) + random.int(-8, 8)) : random.int(1935, 2006);
    return {
      residentId: `R${pad(++residentCount, 6)}`,
      title: female ? random.pick(['Ms', 'Mrs', 'Miss', 'Dr']) : random.pick(['Mr', 'Mr', 'Mr', 'Dr']),
      forename: random.pick(female ? FEMALE : MALE),
      surname,
      dateOfBirth: `${year}-${pad(random.int(1, 12), 2)}-${pad(random.int(1, 28), 2)}`,
      uprn: '',
    };
  };

  for (const home of homes) {
    if (!random.chance(0.62)) continue; // empty, or occupied by people none of whom is in any system
    const surname = random.pick(SURNAMES);
    const household: Resident[] = [person(surname)];
    const size = random.pick([1, 1, 2, 2, 2, 3, 4]);
    for (let i = 1; i < size; i++) household.push(person(random.chance(0.6) ? surname : random.pick(SURNAMES), household[0].dateOfBirth));
    for (const member of household) {
      member.uprn = home.uprn;
      residents.push(member);
    }
    const adults = household.slice(0, 2);

    if (random.chance(0.9)) {
      const holders = random.chance(0.3) ? adults : adults.slice(0, 1);
      const accountRef = `50${pad(councilTaxAccounts.length + 1, 8)}`;
      councilTaxAccounts.push({ accountRef, uprn: home.uprn, addressLines: addressLines(home).slice(0, 4), postcode: home.postcode, holders: holders.map((h) => ({ forename: h.forename, surname: h.surname, dateOfBirth: h.dateOfBirth })) });
      for (const holder of holders) holder.councilTaxAccountRef = accountRef;
    }
    if (random.chance(0.18)) {
      const tenancyRef = `T${pad(tenancies.length + 1, 7)}`;
      const tenants = random.chance(0.4) ? adults : adults.slice(0, 1);
      const tenancy: TenancyRecord = {
        tenancyRef,
        rentAccountRef: `HRA${pad(tenancies.length + 1, 7)}`,
        uprn: home.uprn,
        propertyAddress: toHousingAddress(home),
        tenants: tenants.map((t, i) => {
          t.tenancyRef = tenancyRef;
          t.personRef = `${tenancyRef}-${i + 1}`;
          return { personRef: t.personRef, title: t.title, forename: t.forename, surname: t.surname, dateOfBirth: t.dateOfBirth };
        }),
      };
      tenancies.push(tenancy);
      if (tenants.length === 2 && tenants[0].surname === tenants[1].surname) ambiguousTenancies.push(tenancyRef);
    }
    const tenancyOf = new Map(tenancies.slice(-1).map((t) => [t.tenancyRef, t]));
    for (const member of household) {
      if (random.chance(0.12)) {
        member.planningPartyId = `P${pad(planningParties.length + 1, 7)}`;
        planningParties.push({ partyId: member.planningPartyId, title: member.title, forename: member.forename, surname: member.surname, dateOfBirth: random.chance(0.5) ? member.dateOfBirth : undefined, address: toBs7666(home) });
      }
      if (random.chance(0.85)) {
        member.crmContactId = `C${pad(crmContacts.length + 1, 7)}`;
        const withUprn = random.chance(0.75);
        if (!withUprn) crmWithoutUprn.push(member.residentId);
        const links: AccountLink[] = [];
        if (member.councilTaxAccountRef) links.push({ fund: 'CTX', accountRef: member.councilTaxAccountRef });
        const tenancy = member.tenancyRef ? tenancyOf.get(member.tenancyRef) : undefined;
        if (tenancy) links.push({ fund: 'HRA', accountRef: tenancy.rentAccountRef });
        if (random.chance(0.03)) links.push({ fund: 'NDR', accountRef: `NDR${pad(accounts.filter((a) => a.fund === 'NDR').length + 1, 7)}` });
        if (random.chance(0.05)) links.push({ fund: 'SUN', accountRef: `SUN${pad(accounts.filter((a) => a.fund === 'SUN').length + 1, 7)}` });
        for (const link of links) if (link.fund === 'NDR' || link.fund === 'SUN') accounts.push({ ...link, contactId: member.crmContactId });
        const emailName = `${member.forename}.${member.surname}`.toLowerCase().replace(/[^a-z.]/g, '');
        crmContacts.push({
          contactId: member.crmContactId,
          title: member.title,
          firstName: member.forename,
          lastName: member.surname,
          dateOfBirth: random.chance(0.9) ? member.dateOfBirth : undefined,
          email: random.chance(0.7) ? `${emailName}${random.int(1, 99)}@example.org` : undefined,
          phone: random.chance(0.8) ? `07700 9${pad(random.int(0, 99999), 5)}` : undefined,
          address: toCrmAddress(home, withUprn),
          accounts: links,
        });
      }
    }
  }
  // Every council tax and rent account can be paid, with its CRM contact where there is one.
  const contactOf = new Map<string, string>();
  for (const contact of crmContacts) for (const link of contact.accounts) if (!contactOf.has(`${link.fund}|${link.accountRef}`)) contactOf.set(`${link.fund}|${link.accountRef}`, contact.contactId);
  for (const account of councilTaxAccounts) accounts.push({ fund: 'CTX', accountRef: account.accountRef, contactId: contactOf.get(`CTX|${account.accountRef}`) });
  for (const tenancy of tenancies) accounts.push({ fund: 'HRA', accountRef: tenancy.rentAccountRef, contactId: contactOf.get(`HRA|${tenancy.rentAccountRef}`) });

  const take = (filter: (r: Resident) => boolean) => residents.filter(filter).slice(0, 5).map((r) => r.residentId);
  return {
    seed,
    gazetteer,
    residents,
    crmContacts,
    planningParties,
    tenancies,
    councilTaxAccounts,
    accounts,
    examples: {
      knownToAll: take((r) => !!(r.crmContactId && r.planningPartyId && r.tenancyRef && r.councilTaxAccountRef)),
      crmOnly: take((r) => !!r.crmContactId && !r.planningPartyId && !r.tenancyRef && !r.councilTaxAccountRef),
      knownToNone: take((r) => !r.crmContactId && !r.planningPartyId && !r.tenancyRef && !r.councilTaxAccountRef),
      crmWithoutUprn: crmWithoutUprn.slice(0, 5),
      ambiguousTenancies: ambiguousTenancies.slice(0, 5),
    },
  };
}

export const GAZETTEER_COLUMNS = ['uprn', 'usrn', 'saon', 'paon', 'street_description', 'locality', 'town_name', 'post_town', 'postcode', 'x', 'y', 'logical_status'];

/** The gazetteer as the LLPG extract CSV of CONTRACTS.md (header row, CRLF). */
export function gazetteerCsv(records: readonly GazetteerRecord[]): string {
  return stringify(
    records.map((r) => [r.uprn, r.usrn, r.saon, r.paon, r.streetDescription, r.locality, r.townName, r.postTown, r.postcode, r.x, r.y, r.logicalStatus]),
    { header: true, columns: GAZETTEER_COLUMNS, record_delimiter: 'windows' },
  );
}

/** Writes the gazetteer CSV whole (temp name, then rename), so a reader never sees half of it. */
export function writeGazetteer(file: string, records: readonly GazetteerRecord[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.part`;
  fs.writeFileSync(temp, gazetteerCsv(records));
  fs.renameSync(temp, file);
}
