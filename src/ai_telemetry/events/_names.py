"""Name lists for the privacy guard's name detector (imported lazily, on first use).

Taken from Faker's en_US and en_GB person lists (lower case, ASCII). ``FIRST_NAMES`` holds first
names of three letters or more that are not also ordinary words or tool names; those
(``mark``, ``max``, ``grace``, ``jack``, ``julia``, ``ruby``, ...) are in ``AMBIGUOUS_FIRST_NAMES``
and count as a name only next to a known surname (``mark.gonzales``, ``Grace Hopper`` is not
caught unless Hopper is in ``SURNAMES``), so identifiers like ``mark_done`` or ``max_retries``
stay clean. Names outside these lists are caught only through an honorific ("Dr. Okafor");
see docs/privacy.md for the measured limit.
"""

from __future__ import annotations

TYPE_CHECKING = False  # loaded by the hook's privacy check: keep `typing` out
if TYPE_CHECKING:
    from typing import Final

_FIRST_NAMES_TEXT = """
aaron abbie abdul abigail adam adrian adriana adrienne aimee alan albert alec alejandra
alejandro alex alexa alexander alexandra alexandria alexis alfred alice alicia alisha alison
allan allen allison alvin alyssa amanda amelia amy andre andrea andres andrew angela angelica
angie anita ann anna anne annette anthony antonio antony ariana ariel arthur ashlee ashleigh
ashley audrey barbara barry becky belinda benjamin bernard beth bethan bethany betty beverley
beverly bianca billy blake bobby bonnie brad bradley brady brandi brandon breanna brenda brendan
brent brett brian briana brianna bridget brittany brittney bruce bryan bryce caitlin caitlyn
caleb callum calvin cameron candace candice carl carla carlos carly carole caroline carolyn
carrie casey cassandra cassidy cassie catherine cathy cesar chad charlene charles charlie
charlotte chelsea chelsey cheryl cheyenne chloe christian christie christina christine
christopher christy cindy claire clare clarence claudia clayton clifford clinton clive colin
colleen collin colton connie connor conor corey cory courtney craig cristian cristina curtis
cynthia dalton damian damien damon dana daniel danielle danny darin darius darlene darrell
darren darryl daryl dave david deanna debbie deborah debra declan denis denise dennis derek
derrick desiree devin devon diana diane dillon dominic donald donna doris dorothy douglas duane
duncan dustin dwayne dylan ebony eddie edgar eduardo edward edwin eileen elaine eleanor elijah
elizabeth ellen ellie elliot elliott emily emma eric erica erik erika ernest ethan eugene evan
evelyn felicia fernando fiona frances francesca francis francisco franklin fred frederick
gabriel gabriela gabriella gabrielle gail gareth garrett garry gemma geoffrey george georgia
georgina gerald geraldine gerard gilbert gillian gina glenda gloria gordon graeme graham greg
gregg gregory gwendolyn hailey haley hannah harold harriet hayden hayley hector heidi helen
henry herbert hilary hollie howard hugh iain irene isaac isabel isabella isaiah ivan jackie
jackson jaclyn jacob jacqueline jaime jake james jamie jane janet janice jared jasmin jason
javier jayne jeanette jeanne jeff jeffery jeffrey jemma jenna jennifer jenny jeremiah jeremy
jermaine jerome jerry jesse jessica jesus jill jillian jimmy joan joann joanna joanne jocelyn
jodi jodie jody joel john johnathan johnny jonathan jonathon jorge jose joseph josephine josh
joshua joyce juan judith judy julian julie justin kaitlin kaitlyn kara karen kari karina karl
karla kate katelyn katherine kathleen kathryn kathy katie katrina katy kayla kaylee kayleigh
keith kelli kellie kelly kelsey kendra kenneth kerri kevin kiara kieran kimberley kimberly
kirsten kirsty krista kristen kristi kristie kristin kristina kristine kristopher kristy krystal
kurt kyle kylie lacey larry latasha latoya laura lauren laurie lawrence leah leanne leigh leon
leonard leroy lesley leslie levi lewis liam linda lindsay lindsey lisa lonnie loretta lori
lorraine louis louise lucas lucy luis luke lydia lynda lynn lynne mackenzie madeline madison
makayla malcolm malik mallory mandy manuel marc marcia marco marcus margaret maria mariah marian
marie marilyn mario marion marisa marissa martha martin martyn marvin mary mathew matthew
maureen maurice maxwell mckenzie meagan megan meghan melanie melinda melissa melody melvin
meredith mia michael michaela micheal michele michelle miguel mikayla mike mindy miranda
mitchell mohamed mohammad mohammed molly monica monique nancy naomi natalie natasha nathan
nathaniel neil nicholas nichole nicola nicolas nicole nigel noah norma norman oliver olivia omar
oscar owen pam pamela patricia patrick patty paul paula pauline pedro peggy peter philip phillip
phyllis preston priscilla rachael rachel ralph randall randy raymond rebecca rebekah reece
reginald renee rhonda rhys ricardo richard rickey ricky riley rita robert roberta roberto robyn
rodney roger ronald ronnie rosemary rosie roy ruben russell ruth ryan sabrina sally samantha
samuel sandra sara sarah scott sean selena sergio seth shane shannon shari sharon shaun shawn
shawna sheena sheila shelia shelley shelly sheri sherri sherry sheryl shirley sian simon sonya
sophia sophie spencer stacey stacie stacy stanley stefanie stephanie stephen steve steven
stewart stuart susan suzanne sylvia tabitha tamara tami tammie tammy tanya tara tasha terence
teresa terrance terrence terri terry theodore theresa thomas tiffany timothy tina toby todd
tommy toni tony tonya tracey traci tracie tracy travis trevor tricia tristan troy tyler tyrone
valerie vanessa vernon veronica vicki vickie victor vincent virginia walter wanda warren wayne
wendy wesley whitney william willie wyatt xavier yesenia yolanda yvette yvonne zachary zoe
"""
FIRST_NAMES: Final[frozenset[str]] = frozenset(_FIRST_NAMES_TEXT.split())

_AMBIGUOUS_FIRST_NAMES_TEXT = """
amber ana angel april austin autumn bailey ben bill bob brandy brooke carmen carol chase chris
cody cole crystal daisy dakota dale dan dawn dean destiny diamond dominique don drew earl erin
faith frank gary gavin gene glen glenn grace grant guy harry hazel heather holly hunter ian jack
jade jasmine jay jean jim joe jon jordan joy julia june kent kerry kim kirk lance lee logan mark
mason max mercedes misty morgan nina paige parker penny perry raven ray regina rick robin rose
ross sam sandy savannah shelby sierra sonia sue summer sydney tanner taylor tim tom victoria
"""
AMBIGUOUS_FIRST_NAMES: Final[frozenset[str]] = frozenset(_AMBIGUOUS_FIRST_NAMES_TEXT.split())

_SURNAMES_TEXT = """
abbott acevedo acosta adams adkins aguilar aguirre ahmed akhtar alexander ali allan allen
allison alvarado alvarez andersen anderson andrade andrews anthony archer arellano arias
armstrong arnold arroyo ashley ashton atkins atkinson austin avery avila ayala ayers bailey
baird baker baldwin ball ballard banks barajas barber barker barlow barnes barnett barr barrera
barrett barron barry bartlett barton bass bates bauer bautista baxter bean beard beasley beck
becker begum bell beltran bender benitez benjamin bennett benson bentley benton berg berger
bernard berry best bevan bibi birch bird bishop black blackburn blackwell blair blake blanchard
blankenship blevins bolton bond bonilla booker boone booth bowen bowers bowman boyd boyer boyle
bradford bradley bradshaw brady branch brandt braun bray brennan brewer bridges briggs bright
brock brookes brooks brown browne browning bruce bryan bryant buchanan buck buckley bull bullock
burch burgess burke burnett burns burrows burton bush butcher butler byrd byrne cabrera cain
calderon caldwell calhoun callahan camacho cameron campbell campos cannon cantrell cantu
cardenas carey carlson carney carpenter carr carrillo carroll carson carter cartwright case
casey castaneda castillo castro cervantes chadwick chamberlain chambers chan chandler chaney
chang chapman charles charlton chase chavez chen cherry choi christensen christian chung church
cisneros clark clarke clay clayton clements cline coates cobb cochran coffey cohen cole coleman
coles collier collins colon combs compton conley conner connolly connor conrad contreras conway
cook cooke cooley cooper copeland cordova cortez costa cowan cox craig crane crawford crosby
cross cruz cuevas cummings cunningham curry curtis dale dalton daly daniel daniels daugherty
davenport davey david davidson davies davila davis davison dawson day dean decker delacruz
deleon delgado dennis diaz dickerson dickinson dickson dillon dixon dobson dodd dodson doherty
dominguez donaldson donnelly donovan dorsey dougherty douglas downs doyle drake duarte dudley
duffy duke duncan dunlap dunn duran durham dyer eaton edwards elliott ellis ellison english
erickson escobar esparza espinoza estes estrada evans everett ewing farley farmer farrell
faulkner ferguson fernandez ferrell field fields figueroa finch finley fischer fisher fitzgerald
fitzpatrick fleming fletcher flores flowers floyd flynn foley forbes ford forster foster fowler
fox francis franco frank franklin fraser frazier frederick freeman french frey friedman fritz
frost fry frye fuentes fuller gaines gallagher gallegos galloway galvan gamble garcia gardiner
gardner garner garrett garrison garza gates gay gentry george gibbons gibbs gibson gilbert giles
gill gillespie gilmore glass glenn glover goddard godfrey golden gomez gonzales gonzalez good
goodman goodwin gordon gough gould graham grant graves gray green greene greenwood greer gregory
griffin griffith griffiths grimes gross guerra guerrero gutierrez guzman haas hahn hale haley
hall hamilton hammond hampton hancock haney hanna hansen hanson hardin harding hardy hargreaves
harmon harper harrell harrington harris harrison hart hartley hartman harvey hatfield hawkins
hayden hayes haynes hays hayward heath hebert henderson hendricks hendrix henry hensley henson
herbert herman hernandez herrera herring hess hester hewitt hickman hicks higgins hill hilton
hines hinton ho hobbs hodge hodges hodgson hoffman hogan holden holder holland holloway holmes
holt hood hooper hoover hope hopkins horn horne horton houghton house houston howard howarth
howe howell howells huang hubbard huber hudson huerta huff huffman hughes hull humphrey
humphreys humphries hunt hunter hurley hurst hussain hutchinson huynh hyde ibarra ingram iqbal
irwin jackson jacobs jacobson james jarvis jefferson jenkins jennings jensen jimenez john johns
johnson johnston jones jordan joseph joyce juarez kaiser kane kaufman kaur kay keith keller
kelley kelly kemp kennedy kent kerr khan kidd kim king kirby kirk klein kline knapp knight
knowles knox koch kramer krause krueger lam lamb lambert landry lane lang lara larsen larson law
lawrence lawson le leach leblanc lee lees leon leonard lester levine levy lewis li lin lindsey
little liu livingston lloyd logan long lopez lord love lowe lowery lozano lucas lucero luna lutz
lynch lynn lyons macdonald macias mack madden maddox mahmood mahoney maldonado malone mann
manning marks marquez marsden marsh marshall martin martinez mason massey mata mathews mathis
matthews maxwell may mayer maynard mayo mays mcbride mccall mccann mccarthy mccarty mcclain
mcclure mcconnell mccormick mccoy mccullough mcdaniel mcdonald mcdowell mcfarland mcgee mcgrath
mcguire mcintosh mcintyre mckay mckee mckenzie mckinney mcknight mclaughlin mclean mcmahon
mcmillan mcneil mcpherson meadows medina mejia melendez mellor melton mendez mendoza mercado
mercer merritt metcalfe meyer meyers meza miah michael middleton miles miller mills miranda
mistry mitchell molina monroe montes montgomery montoya moody moon mooney moore mora morales
moran moreno morgan morley morris morrison morrow morse morton moses mosley moss moyer mueller
mullen mullins munoz murillo murphy murray myers nash navarro naylor neal nelson newman newton
nguyen nicholls nichols nicholson nielsen nixon noble nolan norman norris north norton novak
nunez obrien ochoa oconnell oconnor odom odonnell oliver olsen olson oneal oneill orozco orr
ortega ortiz osborn osborne owen owens pace pacheco padilla palmer park parker parkes parkin
parkinson parks parrish parry parsons patel patrick patterson patton paul payne peacock pearce
pearson peck pena pennington perez perkins perry peters petersen peterson petty pham phelps
phillips pickering pierce pineda pittman pitts pollard ponce poole pope porter potter potts
powell power powers pratt preston price prince pritchard proctor pruitt pugh quinn rahman
ramirez ramos ramsey randall randolph rangel rasmussen ray raymond read reed rees reese reeves
reid reilly reyes reynolds rhodes rice rich richard richards richardson richmond riddle riggs
riley rios ritter rivas rivera rivers roach robbins roberson roberts robertson robinson robles
robson rocha rodgers rodriguez rogers rojas rollins roman romero rosales rosario rose ross roth
rowe rowland rowley roy rubio ruiz rush russell russo ryan salas salazar salinas sampson sanchez
sanders sanderson sandoval sanford santana santiago santos saunders savage sawyer schaefer
schmidt schmitt schneider schofield schroeder schultz schwartz scott sellers serrano sexton
shaffer shah shannon sharp sharpe shaw shea shelton shepard shepherd sheppard sherman shields
short silva simmons simon simpson sims sinclair singh singleton skinner slater sloan small smart
smith snow snyder solis solomon sosa soto sparks spears spence spencer stafford stanley stanton
stark steele stein stephens stephenson stevens stevenson stewart stokes stone storey stout
strickland strong stuart suarez sullivan summers sutton swanson sweeney swift sykes talbot
tanner tapia tate taylor terrell terry thomas thompson thomson thornton thorpe todd tomlinson
torres townsend tran travis trevino trujillo tucker turnbull turner tyler underwood valdez
valencia valentine valenzuela vance vang vargas vasquez vaughan vaughn vazquez vega velasquez
velazquez velez villa villanueva villarreal villegas vincent wade wagner walker wall wallace
waller wallis walls walsh walter walters walton wang ward ware warner warren washington waters
watkins watson watts weaver webb weber webster weeks weiss welch wells werner west weston
wheeler whitaker white whitehead whitehouse whitney whittaker wiggins wilcox wiley wilkerson
wilkins wilkinson williams williamson willis wilson winter winters wise wolf wolfe wong wood
woodard woods woodward wright wu wyatt yang yates yoder york young yu zamora zavala zhang
zimmerman zuniga
"""
SURNAMES: Final[frozenset[str]] = frozenset(_SURNAMES_TEXT.split())
