/**
 * Names and places for synthetic people in and around Leeds. Common names only,
 * combined at random: any resemblance to a real person is chance.
 */

export const MALE_GIVEN = [
  'Oliver', 'George', 'Harry', 'Jack', 'Jacob', 'Noah', 'Charlie', 'Thomas', 'Oscar', 'William', 'James', 'Joshua',
  'Alfie', 'Henry', 'Leo', 'Archie', 'Ethan', 'Joseph', 'Freddie', 'Samuel', 'Daniel', 'Adam', 'Mohammed', 'Ali',
  'David', 'John', 'Michael', 'Paul', 'Peter', 'Richard', 'Robert', 'Stephen', 'Andrew', 'Mark', 'Ian', 'Gary',
  'Kevin', 'Anthony', 'Christopher', 'Matthew', 'Simon', 'Graham', 'Keith', 'Brian', 'Derek', 'Arthur', 'Ronald', 'Kenneth',
  'Imran', 'Tariq', 'Hamza', 'Ravi', 'Sanjay', 'Tomasz', 'Piotr', 'Kwame', 'Chidi', 'Wei',
] as const;

export const FEMALE_GIVEN = [
  'Olivia', 'Amelia', 'Isla', 'Ava', 'Emily', 'Isabella', 'Mia', 'Poppy', 'Ella', 'Lily', 'Sophie', 'Grace',
  'Freya', 'Evie', 'Charlotte', 'Jessica', 'Ruby', 'Chloe', 'Holly', 'Lucy', 'Hannah', 'Aisha', 'Fatima', 'Zara',
  'Sarah', 'Emma', 'Rebecca', 'Laura', 'Rachel', 'Helen', 'Claire', 'Nicola', 'Joanne', 'Karen', 'Julie', 'Susan',
  'Margaret', 'Patricia', 'Linda', 'Elizabeth', 'Jean', 'Dorothy', 'Joan', 'Mary', 'Barbara', 'Christine', 'Sandra', 'Pauline',
  'Samina', 'Nadia', 'Priya', 'Anita', 'Agnieszka', 'Katarzyna', 'Ama', 'Ngozi', 'Mei',
] as const;

export const FAMILY = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright', 'Thompson', 'Evans',
  'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson', 'Clarke', 'Hughes', 'Edwards', 'Turner', 'Hill',
  'Moore', 'Lewis', 'Harrison', 'Ward', 'Baker', 'Lee', 'Harris', 'Martin', 'Cooper', 'King', 'Allen', 'Shaw',
  'Holmes', 'Atkinson', 'Barker', 'Bell', 'Booth', 'Fletcher', 'Hartley', 'Hirst', 'Kershaw', 'Lockwood', 'Marsden', 'Pickles',
  'Sutcliffe', 'Whiteley', 'Ackroyd', 'Brear', 'Haigh', 'Ramsden', 'Wainwright', 'Illingworth',
  'Khan', 'Hussain', 'Ahmed', 'Ali', 'Patel', 'Shah', 'Begum', 'Iqbal', 'Nowak', 'Kowalski', 'Mensah', 'Okafor', 'Chen', 'Murphy', 'Kelly', "O'Brien",
] as const;

export const STREETS = [
  'Otley Road', 'Harrogate Road', 'Roundhay Road', 'York Road', 'Wetherby Road', 'Kirkstall Road', 'Chapeltown Road',
  'Street Lane', 'Moortown Road', 'Shadwell Lane', 'Stainbeck Lane', 'Cardigan Road', 'Headingley Lane', 'Spen Lane',
  'Tong Road', 'Town Street', 'Station Road', 'Church Lane', 'Victoria Road', 'Park Lane', 'Cross Gates Road',
  'Selby Road', 'Dewsbury Road', 'Elland Road', 'Beeston Road', 'Middleton Park Road', 'Ring Road', 'Green Lane',
  'Queen Street', 'Springfield Mount', 'Oakwood Lane', 'Gledhow Valley Road', 'Easterly Road', 'Harehills Lane',
  'Stanningley Road', 'Bradford Road', 'Aberford Road', 'Leeds Road', 'Main Street', 'The Avenue',
] as const;

/** Leeds postcode districts (LS1-LS29) with a locality in each. */
export const LEEDS_DISTRICTS: ReadonlyArray<readonly [string, string]> = [
  ['LS1', 'City Centre'], ['LS2', 'City Centre'], ['LS3', 'Burley'], ['LS4', 'Kirkstall'], ['LS5', 'Hawksworth'],
  ['LS6', 'Headingley'], ['LS7', 'Chapel Allerton'], ['LS8', 'Roundhay'], ['LS9', 'Burmantofts'], ['LS10', 'Hunslet'],
  ['LS11', 'Beeston'], ['LS12', 'Armley'], ['LS13', 'Bramley'], ['LS14', 'Seacroft'], ['LS15', 'Cross Gates'],
  ['LS16', 'Adel'], ['LS17', 'Moortown'], ['LS18', 'Horsforth'], ['LS19', 'Yeadon'], ['LS20', 'Guiseley'],
  ['LS21', 'Otley'], ['LS22', 'Wetherby'], ['LS23', 'Boston Spa'], ['LS24', 'Tadcaster'], ['LS25', 'Garforth'],
  ['LS26', 'Rothwell'], ['LS27', 'Morley'], ['LS28', 'Pudsey'], ['LS29', 'Ilkley'],
];

/** Letters allowed in the inward code of a UK postcode (not C, I, K, M, O, V). */
export const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** A well-formed UK postcode (outward code, space, digit and two letters). */
export const POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$/;

export const PRACTICE_NAMES = ['Medical Centre', 'Surgery', 'Health Centre', 'Medical Practice', 'Family Practice'] as const;

export const CLINICAL_SPECIALTIES = [
  'Emergency medicine', 'Cardiology', 'Respiratory medicine', 'Diabetes and endocrinology', 'Renal medicine',
  'Trauma and orthopaedics', 'General surgery', 'Rheumatology', 'Care of the elderly', 'Neurology', 'Dermatology',
  'Gastroenterology', 'Urology', 'Oncology', 'Gynaecology', 'Obstetrics', 'General medicine',
] as const;
